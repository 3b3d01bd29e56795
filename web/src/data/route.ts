// How a semantic query reached the space (the search response's ``route``), as one line of plain text.
import type * as schema from './schema';

const fig = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : v.toFixed(2));

/** "Searched by words through a translator from minilm (held-out recall@10 0.41 vs 0.05 baseline)" or "Query
 * embedded with the space's own model (local)"; '' when there is no route (keyword search). */
export function routeText(route: schema.QueryRoute | null | undefined): string {
  if (!route) return '';
  if (route.route === 'translator')
    return `Searched by words through a translator from ${route.via} (${route.model}, ${route.method}): held-out recall@10 ${fig(route.recall_at_10)} vs ${fig(route.baseline_recall_at_10)} for the mean-vector baseline.`;
  return `Query embedded with the model of the space (${route.model}).`;
}
