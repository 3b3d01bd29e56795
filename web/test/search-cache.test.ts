// data/search-cache.ts: a kept search answers only the same query, mode, space and filter.
import { describe, expect, it } from 'vitest';
import type { SearchMode } from '../src/data/api';
import { type DoneSearch, reusable, searchIn } from '../src/data/search-cache';

const done = (space: string, query: string, mode: SearchMode, filter: string | null): DoneSearch => ({
  result: { query, mode, hits: [], total: 0 } as unknown as DoneSearch['result'],
  scores: new Float32Array(3),
  space,
  filter,
});

describe('reusable', () => {
  const kept = done('docs', 'solar power', 'semantic', '{"topic":["energy"]}');

  it('answers the same search in the same space under the same filter', () => {
    expect(reusable(kept, 'docs', 'solar power', 'semantic', '{"topic":["energy"]}')).toBe(kept);
  });

  it('does not answer another query, mode, space or filter', () => {
    expect(reusable(kept, 'docs', 'solar', 'semantic', '{"topic":["energy"]}')).toBeNull();
    expect(reusable(kept, 'docs', 'solar power', 'keyword', '{"topic":["energy"]}')).toBeNull();
    expect(reusable(kept, 'other', 'solar power', 'semantic', '{"topic":["energy"]}')).toBeNull();
    expect(reusable(kept, 'docs', 'solar power', 'semantic', null)).toBeNull();
    expect(reusable(done('docs', 'solar power', 'semantic', null), 'docs', 'solar power', 'semantic', '{}')).toBeNull();
  });

  it('answers nothing without a kept search', () => {
    expect(reusable(null, 'docs', 'solar power', 'semantic', null)).toBeNull();
  });
});

describe('searchIn', () => {
  it('is the kept search only in its own space', () => {
    const kept = done('docs', 'q', 'semantic', null);
    expect(searchIn(kept, 'docs')).toBe(kept);
    expect(searchIn(kept, 'other')).toBeNull();
    expect(searchIn(kept, undefined)).toBeNull();
    expect(searchIn(null, 'docs')).toBeNull();
  });
});
