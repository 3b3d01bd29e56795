// data/layouts.ts: which layout the globe shows and which the map shows first. The layouts carry both the
// method names and the traits /api/info reports (surface, rank; umap 0, tsne 1, pca 2, sphere 3), so these
// cases hold whether the choice reads the names or the traits.
import { describe, expect, it } from 'vitest';
import type { LayoutInfo } from '../src/data/api';
import { defaultLayout, globeLayout, onSphere } from '../src/data/layouts';

const RANK: Record<string, number> = { umap: 0, tsne: 1, pca: 2, sphere: 3 };

function layout(method: string): LayoutInfo {
  const surface = method === 'sphere' ? 'sphere' : 'plane';
  const traits = { label: method, surface, rank: RANK[method] ?? 100 };
  return {
    method, k: null, trustworthiness: null, continuity: null, knn_recall: null, stale: false,
    has_xyz: surface === 'sphere', ...traits,
  } as LayoutInfo;
}
const layouts = (...methods: string[]) => methods.map(layout);

describe('globeLayout', () => {
  it('is the sphere layout', () => {
    expect(globeLayout(layouts('umap', 'sphere', 'pca'))).toBe('sphere');
    expect(onSphere(layout('sphere'))).toBe(true);
    expect(onSphere(layout('pca'))).toBe(false);
  });

  it('is null without a sphere layout, or without layouts', () => {
    expect(globeLayout(layouts('umap', 'pca', 'tsne'))).toBeNull();
    expect(globeLayout([])).toBeNull();
  });
});

describe('defaultLayout', () => {
  it('prefers umap wherever the server lists it', () => {
    expect(defaultLayout(layouts('umap', 'tsne', 'pca', 'sphere'))).toBe('umap');
    expect(defaultLayout(layouts('pca', 'sphere', 'tsne', 'umap'))).toBe('umap');
  });

  it('takes the first plane layout listed (by rank) without umap', () => {
    expect(defaultLayout(layouts('tsne', 'pca', 'sphere'))).toBe('tsne');
    expect(defaultLayout(layouts('pca', 'sphere'))).toBe('pca');
  });

  it('takes a sphere when it is the only layout, and nothing without layouts', () => {
    expect(defaultLayout(layouts('sphere'))).toBe('sphere');
    expect(defaultLayout([])).toBeNull();
  });
});
