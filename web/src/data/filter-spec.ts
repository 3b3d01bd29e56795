// The metadata filter as the page holds it and sends it: a small JSON object (see src/embedscope/filters.py)
// that the server applies to the map, the search (hits and histogram) and the neighbour lists alike.

/** ``{"topic": ["a", "b"], "length": {"min": 3, "max": 9}, "text": {"contains": "moon"}}`` */
export type FilterSpec = Record<string, string[] | { min?: number; max?: number } | { contains: string }>;

export const filterJson = (spec: FilterSpec | null): string | null =>
  spec && Object.keys(spec).length ? JSON.stringify(spec) : null;

export function parseFilter(text: string | null | undefined): FilterSpec | null {
  if (!text) return null;
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as FilterSpec) : null;
  } catch {
    return null;
  }
}

/** How many points pass (``keep``: 1 for a point that passes, else 0). */
export function countKept(keep: Uint8Array): number {
  let n = 0;
  for (const v of keep) n += v;
  return n;
}

/** The rows that pass, in point order. */
export function keptRows(keep: Uint8Array): number[] {
  const rows: number[] = [];
  keep.forEach((v, i) => v && rows.push(i));
  return rows;
}
