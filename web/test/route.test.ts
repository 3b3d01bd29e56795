// The search results' route line (data/route.ts).
import { describe, expect, it } from 'vitest';
import { routeText } from '../src/data/route';

describe('routeText', () => {
  it('names the translator, its held-out recall and the baseline', () => {
    const t = routeText({ route: 'translator', space: 'image', model: 'local', via: 'minilm', method: 'ridge',
      recall_at_10: 0.4123, baseline_recall_at_10: 0.05 });
    expect(t).toBe('Searched by words through a translator from minilm (local, ridge): held-out recall@10 0.41 vs 0.05 for the mean-vector baseline.');
  });
  it('says the space own model, and nothing for keyword search', () => {
    expect(routeText({ route: 'model', space: 'minilm', model: 'local' })).toContain('model of the space (local)');
    expect(routeText(null)).toBe('');
    expect(routeText({ route: 'translator', space: 'b', model: 'tfidf:64', via: 'a', method: 'mlp' })).toContain('recall@10 – vs –');
  });
});
