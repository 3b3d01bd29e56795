// The search the explorer keeps: its hits and every point's score, with what it was asked under, and when it
// answers a search again (the same query, mode, space and filter: nothing is fetched).
import type { SearchMode, SearchResult } from './api';

/** A search done in ``space`` under the filter ``filter`` (its JSON, or null): the hits and every point's score. */
export interface DoneSearch {
  result: SearchResult;
  scores: Float32Array;
  space: string;
  filter: string | null;
}

/** ``done`` when it is the search for ``q`` by ``mode`` in ``space`` under ``filter``, else null (ask again). */
export function reusable(done: DoneSearch | null, space: string, q: string, mode: SearchMode, filter: string | null): DoneSearch | null {
  if (!done) return null;
  return done.space === space && done.result.query === q && done.result.mode === mode && done.filter === filter ? done : null;
}

/** ``done`` when it was made in ``space`` (so it colours that space's map and goes in its URL), else null. */
export function searchIn(done: DoneSearch | null, space: string | undefined): DoneSearch | null {
  return done && done.space === space ? done : null;
}
