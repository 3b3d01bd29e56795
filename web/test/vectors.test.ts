// The vector strips' pure helpers (data/vectors.ts): the colour scale, the grid, the cell under the pointer, the
// product and its largest dimensions, the rank in words.
import { describe, expect, it } from 'vitest';
import { NEGATIVE, POSITIVE, ZERO, dimAt, divergingColor, maxAbs, product, rankText, stripGrid, sum, topDims } from '../src/data/vectors';

describe('divergingColor', () => {
  it('is the neutral colour at 0, blue below, orange above, full at the scale and clipped beyond', () => {
    expect(divergingColor(0, 1)).toEqual(ZERO);
    expect(divergingColor(-1, 1)).toEqual(NEGATIVE);
    expect(divergingColor(1, 1)).toEqual(POSITIVE);
    expect(divergingColor(5, 1)).toEqual(POSITIVE);
    const half = divergingColor(0.5, 1);
    expect(half[0]).toBe(Math.round((ZERO[0] + POSITIVE[0]) / 2));
    expect(divergingColor(-0.25, 1)[2]).toBeGreaterThan(ZERO[2]);
    expect(divergingColor(Number.NaN, 1)).toEqual(ZERO);
    expect(divergingColor(0.3, 0)).toEqual(ZERO);
  });
  it('is symmetric in magnitude', () => {
    const d = (c: number[]) => Math.hypot(c[0] - ZERO[0], c[1] - ZERO[1], c[2] - ZERO[2]);
    const full = [d(NEGATIVE), d(POSITIVE)];
    expect(d(divergingColor(-0.4, 1)) / full[0]).toBeCloseTo(d(divergingColor(0.4, 1)) / full[1], 1);
  });
});

describe('stripGrid and dimAt', () => {
  it('wraps 384 and 1,280 dimensions into rows of 64 cells at least 4 px wide in a 360 px panel', () => {
    for (const dims of [300, 384, 1280]) {
      const g = stripGrid(dims, 360);
      expect(g.cols).toBe(64);
      expect(g.rows).toBe(Math.ceil(dims / 64));
      expect(g.cell).toBeGreaterThanOrEqual(4);
      expect(g.rows * g.cellH).toBeLessThanOrEqual(160);
    }
  });
  it('draws a short vector in one row', () => {
    const g = stripGrid(50, 360);
    expect([g.cols, g.rows]).toEqual([50, 1]);
  });
  it('finds the dimension under the pointer, null outside', () => {
    const g = stripGrid(1280, 360);
    expect(dimAt(g, 0, 0)).toBe(0);
    expect(dimAt(g, g.cell * 3 + 1, g.cellH * 2 + 1)).toBe(2 * 64 + 3);
    expect(dimAt(g, g.cell * 63 + 1, g.cellH * 19 + 1)).toBe(1279);
    expect(dimAt(g, g.cell * 64 + 1, 0)).toBeNull();
    expect(dimAt(g, 0, g.cellH * 20 + 1)).toBeNull();
    const odd = stripGrid(300, 360); // 5 rows, the last one partly empty
    expect(dimAt(odd, odd.cell * 50, odd.cellH * 4 + 1)).toBeNull();
    expect(dimAt(odd, odd.cell * 43 + 1, odd.cellH * 4 + 1)).toBe(299);
  });
});

describe('product and topDims', () => {
  it('multiplies element by element; the sum is the dot product', () => {
    const a = [0.5, -1, 2, 0];
    const b = [2, 3, -0.5, 7];
    const p = product(a, b);
    expect(Array.from(p)).toEqual([1, -3, -1, 0]);
    expect(sum(p)).toBeCloseTo(0.5 * 2 - 3 - 1, 12);
    expect(() => product([1], [1, 2])).toThrow();
  });
  it('ranks dimensions by magnitude with their sign, ties by dimension', () => {
    expect(topDims([1, -3, -1, 0, 3], 3)).toEqual([1, 4, 0]);
    expect(topDims([0.1, 0.2], 5)).toEqual([1, 0]);
    expect(maxAbs([1, -4], [3])).toBe(4);
    expect(maxAbs()).toBe(0);
  });
});

describe('rankText', () => {
  const base = { metric: 'cosine', score: 0.65, pairs: 499500, ties: 0, closer_fraction: 0.0039 };
  it('says an exact rank is exact', () => {
    const t = rankText({ ...base, rank: 1966, exact: true, low: 1966, high: 1966, sample: null, seed: null });
    expect(t).toContain('rank 1,966 of 499,500 pairs');
    expect(t).toContain('exact');
  });
  it('gives an estimate with its interval, sample and seed', () => {
    const t = rankText({ ...base, rank: 137883, exact: false, low: 135934, high: 139849, sample: 200000, seed: 0 });
    expect(t).toContain('≈ 137,883');
    expect(t).toContain('135,934–139,849');
    expect(t).toContain('200,000 random pairs, seed 0');
  });
});
