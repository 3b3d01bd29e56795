import { describe, expect, it } from 'vitest';
import type { Cluster, ColumnData, SearchResult } from '../src/data/api';
import { ACTIVE, BACKGROUND, MISSING, blend, hexToRgb } from '../src/data/colors';
import {
  DIMMED, NO_HIGHLIGHT, NUMERIC_BINS, categoryCounts, drawnRgb, encode, encodeClusters, encodeHonesty, encodeScores, filteredLegend,
  plainEncoding,
} from '../src/data/encoding';

const categorical = (codes: number[], categories: string[]): ColumnData => ({
  kind: 'categorical', name: 'topic', codes: Int32Array.from(codes), categories,
});
const numeric = (values: number[]): ColumnData => ({ kind: 'numeric', name: 'length', values: Float32Array.from(values) });
const cluster = (id: number, size: number, label = `c${id}`): Cluster => ({ id, size, keywords: [], label });

describe('encode: categories', () => {
  it('gives each point its category, one colour each, counts in the legend', () => {
    const e = encode(categorical([0, 1, 1, 2, 1], ['a', 'b', 'c']));
    expect(Array.from(e.codes)).toEqual([0, 1, 1, 2, 1]);
    expect(e.palette).toHaveLength(4);
    expect(new Set(e.palette.slice(0, 3)).size).toBe(3);
    expect(e.palette[3]).toBe(MISSING);
    expect(e.legend).toEqual({
      kind: 'categorical', title: 'topic',
      entries: [
        { label: 'a', color: e.palette[0], count: 1 },
        { label: 'b', color: e.palette[1], count: 3 },
        { label: 'c', color: e.palette[2], count: 1 },
      ],
    });
  });

  it('puts negative and out-of-range codes in a (missing) entry', () => {
    const e = encode(categorical([-1, 0, 5, 0], ['a']));
    expect(Array.from(e.codes)).toEqual([1, 0, 1, 0]);
    expect(e.legend.kind === 'categorical' && e.legend.entries.at(-1)).toEqual({ label: '(missing)', color: MISSING, count: 2 });
  });

  it('has no (missing) entry when every point has a category', () => {
    const e = encode(categorical([0, 0], ['only']));
    expect(e.legend.kind === 'categorical' && e.legend.entries.map((x) => x.label)).toEqual(['only']);
  });

  it('handles an empty column', () => {
    const e = encode(categorical([], []));
    expect(e.codes).toHaveLength(0);
    expect(e.legend).toEqual({ kind: 'categorical', title: 'topic', entries: [] });
  });

  it('keeps non-ASCII category labels and gives many categories distinct colours', () => {
    const cats = Array.from({ length: 40 }, (_, i) => `主题 ${i} ✓`);
    const e = encode(categorical(cats.map((_, i) => i), cats));
    expect(e.legend.kind === 'categorical' && e.legend.entries.map((x) => x.label)).toEqual(cats);
    expect(new Set(e.palette.slice(0, 40)).size).toBe(40);
  });
});

describe('encode: numbers', () => {
  it('bins the values from the lowest to the highest, missing values in their own bin', () => {
    const e = encode(numeric([0, 5, 10, Number.NaN]));
    expect(Array.from(e.codes)).toEqual([0, NUMERIC_BINS / 2, NUMERIC_BINS - 1, NUMERIC_BINS]);
    expect(e.palette).toHaveLength(NUMERIC_BINS + 1);
    expect(e.palette[NUMERIC_BINS]).toBe(MISSING);
    expect(e.legend).toEqual({ kind: 'numeric', title: 'length', min: 0, max: 10, missing: 1 });
  });

  it('puts every point of a constant column in the first bin', () => {
    const e = encode(numeric([3, 3, 3]));
    expect(Array.from(e.codes)).toEqual([0, 0, 0]);
    expect(e.legend).toMatchObject({ min: 3, max: 3, missing: 0 });
  });

  it('gives a 0..0 legend for a column with only missing values', () => {
    const e = encode(numeric([Number.NaN, Number.NaN]));
    expect(Array.from(e.codes)).toEqual([NUMERIC_BINS, NUMERIC_BINS]);
    expect(e.legend).toMatchObject({ min: 0, max: 0, missing: 2 });
  });

  it('keeps codes inside the palette for negative and huge values', () => {
    const e = encode(numeric([-1e30, 1e30, 0]));
    for (const c of e.codes) expect(c >= 0 && c < e.palette.length).toBe(true);
  });
});

describe('encodeClusters', () => {
  it('colours clusters in the order given, unclustered and unknown clusters grey', () => {
    const labels = Int32Array.from([7, 3, 3, -1, 9, 7, 3]);
    const e = encodeClusters(labels, [cluster(3, 3), cluster(7, 2)]);
    expect(Array.from(e.codes)).toEqual([1, 0, 0, 2, 2, 1, 0]);
    expect(e.palette[2]).toBe(MISSING);
    expect(e.legend).toEqual({
      kind: 'categorical', title: 'clusters',
      entries: [
        { label: 'c3', color: e.palette[0], count: 3, key: '3' },
        { label: 'c7', color: e.palette[1], count: 2, key: '7' },
        { label: 'unclustered', color: MISSING, count: 1, key: '-1' },
        { label: 'other clusters', color: MISSING, count: 1 },
      ],
    });
  });

  it('has no grey entries when every point is in a listed cluster, and takes a title', () => {
    const e = encodeClusters(Int32Array.from([0, 1]), [cluster(0, 1, 'été'), cluster(1, 1)], 'topics');
    expect(e.legend).toMatchObject({ title: 'topics' });
    expect(e.legend.kind === 'categorical' && e.legend.entries.map((x) => x.label)).toEqual(['été', 'c1']);
  });

  it('puts everything in unclustered when there are no clusters', () => {
    const e = encodeClusters(Int32Array.from([-1, -1]), []);
    expect(Array.from(e.codes)).toEqual([0, 0]);
    expect(e.legend.kind === 'categorical' && e.legend.entries).toEqual([{ label: 'unclustered', color: MISSING, count: 2, key: '-1' }]);
  });
});

describe('filteredLegend', () => {
  it('counts only the items that pass the filter (the legend ignored it; issue 24 item 9)', () => {
    const e = encode(categorical([0, 1, 1, 2, 1, -1], ['a', 'b', 'c']));
    const keep = Uint8Array.from([1, 0, 1, 0, 1, 1]);
    const legend = filteredLegend(e, keep);
    expect(legend.kind === 'categorical' && legend.title).toBe('topic · 4 filtered');
    expect(legend.kind === 'categorical' && legend.entries.map((x) => [x.label, x.count, x.total])).toEqual([
      ['a', 1, 1], ['b', 2, 3], ['c', 0, 1], ['(missing)', 1, 1],
    ]);
    expect(filteredLegend(e, null)).toBe(e.legend);
  });

  it('keeps unclustered and other clusters apart though they share a colour', () => {
    const e = encodeClusters(Int32Array.from([7, 3, 3, -1, 9, 7, 3]), [cluster(3, 3), cluster(7, 2)]);
    const legend = filteredLegend(e, Uint8Array.from([1, 1, 0, 0, 1, 1, 1]));
    expect(legend.kind === 'categorical' && legend.entries.map((x) => [x.label, x.count])).toEqual([
      ['c3', 2], ['c7', 2], ['unclustered', 0], ['other clusters', 1],
    ]);
  });

  it('leaves numeric legends as they are', () => {
    const e = encode(numeric([1, 2, 3]));
    expect(filteredLegend(e, Uint8Array.from([1, 0, 1]))).toBe(e.legend);
  });
});

describe('encodeHonesty', () => {
  it('maps 0..1 on a fixed ramp and counts NaN as not measured', () => {
    const e = encodeHonesty(Float32Array.from([0, 0.5, 1, Number.NaN, -0.2, 1.7]), 'knn_recall', 10);
    expect(Array.from(e.codes)).toEqual([0, NUMERIC_BINS / 2, NUMERIC_BINS - 1, NUMERIC_BINS, 0, NUMERIC_BINS - 1]);
    expect(e.legend).toMatchObject({ kind: 'numeric', title: 'map honesty: kNN recall@10', min: 0, max: 1, missing: 1, missingLabel: 'not measured' });
  });

  it('uses the same colour for the same value whatever the other values (layouts compare)', () => {
    const a = encodeHonesty(Float32Array.from([0.3, 0.9]), 'trustworthiness', 5);
    const b = encodeHonesty(Float32Array.from([0.3, 0.31]), 'continuity', 15);
    expect(a.palette[a.codes[0]]).toBe(b.palette[b.codes[0]]);
    expect(a.legend.kind === 'numeric' && a.legend.note).toContain('5 map neighbours');
  });
});

describe('drawnRgb', () => {
  const e = encode(categorical([0, 1, 0], ['a', 'b']));

  it("is the value's colour when nothing is selected", () => {
    expect(drawnRgb(e, 1, NO_HIGHLIGHT)).toEqual(hexToRgb(e.palette[1]));
    expect(drawnRgb(plainEncoding(3), 2, NO_HIGHLIGHT)).toEqual(hexToRgb(plainEncoding(1).palette[0]));
  });

  it('is the highlight colour for the selected row and its neighbours', () => {
    const hl = { focus: 0, rows: new Set([0, 2]) };
    expect(drawnRgb(e, 0, hl)).toEqual(hexToRgb(ACTIVE));
    expect(drawnRgb(e, 2, hl)).toEqual(hexToRgb(ACTIVE));
  });

  it('dims the other rows towards the background while something is selected', () => {
    const hl = { focus: 0, rows: new Set([0]) };
    const dimmed = drawnRgb(e, 1, hl);
    expect(dimmed).toEqual(blend(hexToRgb(e.palette[1]), hexToRgb(BACKGROUND), DIMMED));
    expect(dimmed).not.toEqual(hexToRgb(e.palette[1]));
  });
});

describe('encodeScores', () => {
  const result = (mode: SearchResult['mode']): SearchResult => ({ query: 'moon', mode, k: 2, total: 4, hits: [], histogram: null, cut: null });

  it('keyword: matches bright, the rest dark, with counts', () => {
    const e = encodeScores(Float32Array.from([0, 2, 0, 1]), result('keyword'));
    expect(Array.from(e.codes)).toEqual([0, 1, 0, 1]);
    expect(e.legend).toEqual({
      kind: 'categorical', title: 'words: “moon”',
      entries: [{ label: 'match', color: '#ffd166', count: 2 }, { label: 'no match', color: '#2a3140', count: 2 }],
    });
  });

  it('semantic: the scores on the viridis bins from lowest to highest', () => {
    const e = encodeScores(Float32Array.from([0.2, 0.6, 1.0]), result('semantic'));
    expect(Array.from(e.codes)).toEqual([0, NUMERIC_BINS / 2, NUMERIC_BINS - 1]);
    expect(e.palette).toHaveLength(NUMERIC_BINS);
    expect(e.legend.kind === 'numeric' && [e.legend.min, e.legend.max, e.legend.title]).toEqual([
      Math.fround(0.2), 1, 'similarity to “moon”',
    ]);
  });
});

describe('categoryCounts', () => {
  it('counts the rows by category of a categorical colouring, most first', () => {
    const e = encode(categorical([0, 1, 1, 2, 1], ['a', 'b', 'c']));
    expect(categoryCounts([1, 2, 3, 4], e)).toEqual([
      { label: 'b', color: e.palette[1], count: 3 },
      { label: 'c', color: e.palette[2], count: 1 },
    ]);
  });

  it('is null for a numeric colouring or none', () => {
    expect(categoryCounts([0], encode(numeric([1, 2])))).toBeNull();
    expect(categoryCounts([0], null)).toBeNull();
  });
});
