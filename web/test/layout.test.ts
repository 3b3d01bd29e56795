import { describe, expect, it } from 'vitest';
import { spreadLabels } from '../src/views/dom';
import { gestureStep } from '../src/views/touch';

describe('spreadLabels', () => {
  it('moves overlapping labels apart, keeps their order and keeps them inside the chart', () => {
    // four curves ending at the top of the chart (top-1 = 100%): the labels overlapped above the chart
    const ys = [13.5, 13.5, 14, 40];
    const out = spreadLabels(ys, 11, 8, 168);
    const sorted = [...out].sort((a, b) => a - b);
    for (let k = 1; k < sorted.length; k++) expect(sorted[k] - sorted[k - 1]).toBeGreaterThanOrEqual(11 - 1e-9);
    for (const v of out) expect(v >= 8 && v <= 168).toBe(true);
    expect(out[0]).toBeLessThanOrEqual(out[1]);
    expect(out[1]).toBeLessThan(out[2]);
    expect(out[2]).toBeLessThan(out[3]);
  });

  it('leaves labels that do not touch where they are, and pushes those at the bottom up', () => {
    expect(spreadLabels([20, 60, 100], 11, 8, 168)).toEqual([20, 60, 100]);
    const out = spreadLabels([168, 170, 175], 11, 8, 168);
    expect(out).toEqual([146, 157, 168]);
  });
});

describe('gestureStep', () => {
  it('pans by the move of one finger', () => {
    expect(gestureStep([[10, 20]], [[35, 5]])).toEqual({ pan: [25, -15], zoom: 1, at: [35, 5] });
  });

  it('zooms by how far two fingers move apart, about their centre', () => {
    const step = gestureStep([[100, 100], [200, 100]], [[50, 100], [250, 100]]);
    expect(step.zoom).toBeCloseTo(2);
    expect(step.pan).toEqual([0, 0]);
    expect(step.at).toEqual([150, 100]);
    expect(gestureStep([[0, 0], [0, 0]], [[5, 5], [9, 9]]).zoom).toBe(1); // no spread to compare with
  });
});
