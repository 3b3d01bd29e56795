// The colour menu's choices and the default colouring (data/coloring.ts), and the badge text (views/badges.ts).
import { describe, expect, it } from 'vitest';
import type { ColumnMeta, LayoutInfo, SearchResult } from '../src/data/api';
import { CLUSTER, type ClusterData, HONESTY, NONE, QUERY, colorOptions, defaultColor, hasHonesty } from '../src/data/coloring';
import { honestyText } from '../src/views/badges';

const col = (name: string, kind: ColumnMeta['kind'] = 'categorical', n_unique = 3): ColumnMeta => ({ name, kind, n_unique });
const layout = (over: Partial<LayoutInfo> = {}): LayoutInfo => ({
  method: 'umap', k: 10, trustworthiness: 0.91, continuity: 0.9, knn_recall: 0.42, stale: false, has_xyz: false,
  label: 'UMAP', surface: 'plane', rank: 0, ...over,
});
const clusters: ClusterData = {
  meta: { params: {}, unclustered: 0, total: 7, offset: 0, stale: false, version: 'v', clusters: [] },
  labels: new Int32Array(0),
};
const result = (query: string): SearchResult => ({ query, mode: 'semantic', k: 5, total: 9, hits: [], histogram: null, cut: null });

describe('defaultColor', () => {
  it('prefers a categorical column with a telling name, else the first with more than one value', () => {
    expect(defaultColor([col('year', 'numeric'), col('author'), col('topic')], false)).toBe('topic');
    expect(defaultColor([col('one', 'categorical', 1), col('author')], false)).toBe('author');
  });

  it('falls back to the clusters, then to none', () => {
    expect(defaultColor([col('length', 'numeric'), col('label', 'categorical', 1)], true)).toBe(CLUSTER);
    expect(defaultColor([], false)).toBe(NONE);
  });
});

describe('colorOptions', () => {
  it('lists none and the columns only, when there is nothing else', () => {
    const options = colorOptions({ columns: [col('topic')], clusters: null, layoutInfo: layout({ k: null }), query: null });
    expect(options).toEqual([{ value: NONE, label: 'none' }, { value: 'topic', label: 'topic' }]);
  });

  it('adds the clusters, the three honesty figures and the search, in that order', () => {
    const long = 'q'.repeat(60);
    const options = colorOptions({ columns: [col('topic')], clusters, layoutInfo: layout(), query: { result: result(long), scores: new Float32Array(0) } });
    expect(options.map((o) => o.value)).toEqual([
      NONE, 'topic', CLUSTER, `${HONESTY}knn_recall`, `${HONESTY}trustworthiness`, `${HONESTY}continuity`, QUERY,
    ]);
    expect(options[2].label).toBe('clusters (7)');
    expect(options.at(-1)?.label).toBe(`search: ${'q'.repeat(40)}`);
  });
});

describe('hasHonesty', () => {
  it('needs k and one of the figures', () => {
    expect(hasHonesty(layout())).toBe(true);
    expect(hasHonesty(layout({ knn_recall: null }))).toBe(true);
    expect(hasHonesty(layout({ knn_recall: null, trustworthiness: null }))).toBe(false);
    expect(hasHonesty(layout({ k: null }))).toBe(false);
    expect(hasHonesty(null)).toBe(false);
  });
});

describe('honestyText', () => {
  it('shows trustworthiness and recall at k, a dash for a figure not measured, and says when stale', () => {
    const { text, title } = honestyText(layout({ knn_recall: null, stale: true }));
    expect(text).toBe('T@10 0.91 · recall –');
    expect(title).toContain('How honest the umap map is about neighbourhoods (1 = perfect), at k = 10:');
    expect(title).toContain('· continuity 0.90:');
    expect(title.endsWith('The layout is stale: the space changed since.')).toBe(true);
    expect(title).not.toContain('sampled');
  });
  it('says when the figures come from a sample', () => {
    const { title } = honestyText(layout({ sampled: 5000 }));
    expect(title).toContain('Measured on 5,000 sampled items, not on every item.');
  });
});
