// data/tuned.ts and data/probe.ts: which spaces the compare view pairs, the held-out rows of both maps, and the
// probe table's rows.
import { describe, expect, it } from 'vitest';
import { type ProbeResult, probeNote, probeRows, withInterval } from '../src/data/probe';
import { type PairSpace, heldOutRows, splitSide, tunedPair } from '../src/data/tuned';

const split = { n_train: 48, n_held_out: 12, by: 'topic' };
const spaces: PairSpace[] = [
  { name: 'minilm', tuned: null },
  { name: 'lsa', tuned: null },
  { name: 'tuned', tuned: { base: 'minilm', ...split } },
];

describe('tunedPair', () => {
  it('pairs a tuned space with its base, base first, from either side', () => {
    expect(tunedPair(spaces, 'tuned')).toEqual(['minilm', 'tuned']);
    expect(tunedPair(spaces, 'minilm')).toEqual(['minilm', 'tuned']);
  });

  it('is null for a space with no tuned relative, and for a tuned space whose base is not in the workspace', () => {
    expect(tunedPair(spaces, 'lsa')).toBeNull();
    expect(tunedPair([{ name: 'tuned', tuned: { base: 'local', ...split } }, { name: 'x' }], 'tuned')).toBeNull();
  });

  it('pairs a base with its first tuned space when it has two', () => {
    const two = [...spaces, { name: 'tuned2', tuned: { base: 'minilm', ...split } }];
    expect(tunedPair(two, 'minilm')).toEqual(['minilm', 'tuned']);
    expect(tunedPair(two, 'tuned2')).toEqual(['minilm', 'tuned2']);
  });
});

describe('splitSide', () => {
  it('is the tuned side, the second when both are, null when neither', () => {
    expect(splitSide(spaces, ['minilm', 'tuned'])).toBe(1);
    expect(splitSide(spaces, ['tuned', 'lsa'])).toBe(0);
    expect(splitSide(spaces, ['minilm', 'lsa'])).toBeNull();
    const two = [...spaces, { name: 'tuned2', tuned: { base: 'minilm', ...split } }];
    expect(splitSide(two, ['tuned', 'tuned2'])).toBe(1);
  });
});

describe('heldOutRows', () => {
  it('takes the held-out rows of the split side and the same items on the other side, sorted', () => {
    const parts = Uint8Array.from([0, 1, 0, 1, 2, 1]);
    const other = Int32Array.from([5, 4, 3, 2, 1, 0]); // the other space holds the items in reverse order
    expect(heldOutRows(parts, other)).toEqual({ own: [1, 3, 5], other: [0, 2, 4] });
  });

  it('leaves out the held-out items the other space does not hold, and an item not in the split', () => {
    expect(heldOutRows(Uint8Array.from([1, 1, 2]), Int32Array.from([-1, 0, 1]))).toEqual({ own: [0, 1], other: [0] });
    expect(heldOutRows(new Uint8Array(0), new Int32Array(0))).toEqual({ own: [], other: [] });
  });
});

const classifier = (acc: number, f1: number) => ({
  accuracy: acc, accuracy_ci95: [acc - 0.05, acc + 0.05], macro_f1: f1, macro_f1_ci95: [f1 - 0.1, null],
  per_class: [], confusion: [],
});
const result: ProbeResult = {
  label: 'topic', items: 30, held_out_of: 'tuned',
  spaces: {
    minilm: { kind: 'classes', n: 30, sample: null, folds: 5, dims: 384, seconds: 0.1, control: 0.3, base_rate: 0.34,
      left_out: [{ label: 'misc', count: 2 }], logreg: classifier(0.8, 0.78), knn: { ...classifier(0.7, 0.69), k: 10 } },
    tuned: { kind: 'classes', n: 30, sample: null, folds: 5, dims: 384, seconds: 0.1, control: null, base_rate: 0.34,
      left_out: [], logreg: classifier(0.95, 0.94), knn: null },
  },
};

describe('probeRows', () => {
  it('gives each classifier figure a row, a cell a space with its interval when both ends are known', () => {
    const rows = probeRows(result, ['minilm', 'tuned']);
    expect(rows.map((r) => r.metric)).toEqual(
      ['logreg accuracy', 'logreg macro-F1', 'kNN accuracy', 'kNN macro-F1', 'control (shuffled)', 'base rate']);
    expect(rows[0].cells).toEqual(['0.800 [0.750, 0.850]', '0.950 [0.900, 1.000]']);
    expect(rows[1].cells).toEqual(['0.780', '0.940']); // an open interval end: the figure alone
    expect(rows[2].cells).toEqual(['0.700 [0.650, 0.750]', '–']); // no kNN probe in the second space
    expect(rows[4].values[0]).toBe(0.3);
    expect(Number.isNaN(rows[4].values[1])).toBe(true);
  });

  it('shows ridge R² and the control for a numeric label', () => {
    const numeric: ProbeResult = { label: 'year', items: 9, spaces: {
      a: { kind: 'numeric', n: 9, sample: null, folds: 3, dims: 4, seconds: 0, control: -0.1, ridge: { r2: 0.5, r2_ci95: [0.2, 0.7] } } } };
    const rows = probeRows(numeric, ['a']);
    expect(rows.map((r) => [r.metric, r.cells[0]])).toEqual([['ridge R²', '0.500 [0.200, 0.700]'], ['control (shuffled)', '-0.100']]);
  });

  it('says how many items were probed, held-out or not, and which classes were left out', () => {
    expect(probeNote(result, ['minilm', 'tuned'], true)).toBe('30 held-out items · 5-fold cross-validation · left out (fewer items than folds): misc (2)');
    expect(probeNote(result, ['tuned'], false)).toBe('30 items · 5-fold cross-validation');
    expect(withInterval(null)).toBe('–');
  });
});
