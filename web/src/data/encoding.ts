// Turns a column into what the map draws: one palette index per point, the palette, and the legend.
import type { Cluster, ColumnData, SearchResult } from './api';
import { ACTIVE, BACKGROUND, MISSING, PLAIN, type Rgb, blend, categoricalPalette, hexToRgb, viridis } from './colors';

/** Numeric columns are cut into this many colour bins (plus one for missing values). */
export const NUMERIC_BINS = 256;

export type Legend =
  | { kind: 'none' }
  | { kind: 'categorical'; title: string; entries: LegendEntry[] }
  | {
      kind: 'numeric';
      title: string;
      min: number;
      max: number;
      missing: number;
      /** What the colour means, in a sentence (shown under the ramp). */
      note?: string;
      /** How the missing count is labelled ("missing", "not measured"). */
      missingLabel?: string;
    };

export interface LegendEntry {
  label: string;
  color: string;
  count: number;
  /** With a filter: the count before it (``count`` is then the items that pass). */
  total?: number;
  /** A stable key (a cluster id), as ``data-key`` on the legend row. */
  key?: string;
}

export interface Encoding {
  /** Palette index of each point, in point order. */
  codes: Float32Array;
  /** Hex colours; ``codes`` index into it. */
  palette: string[];
  legend: Legend;
  /** For a categorical legend: the legend entry of each point (its row in ``legend.entries``), to recount them. */
  entryOf?: Int32Array;
}

export function plainEncoding(n: number): Encoding {
  return { codes: new Float32Array(n), palette: [PLAIN], legend: { kind: 'none' } };
}

export function encode(column: ColumnData): Encoding {
  return column.kind === 'categorical' ? encodeCategorical(column) : encodeNumeric(column);
}

function encodeCategorical(column: Extract<ColumnData, { kind: 'categorical' }>): Encoding {
  const k = column.categories.length;
  const palette = [...categoricalPalette(k), MISSING];
  const counts = new Array<number>(k + 1).fill(0);
  const codes = new Float32Array(column.codes.length);
  const entryOf = new Int32Array(column.codes.length);
  column.codes.forEach((c, i) => {
    const code = c < 0 || c >= k ? k : c;
    codes[i] = code;
    entryOf[i] = code;
    counts[code] += 1;
  });
  const entries = column.categories.map((label, i) => ({ label, color: palette[i], count: counts[i] }));
  if (counts[k] > 0) entries.push({ label: '(missing)', color: MISSING, count: counts[k] });
  return { codes, palette, legend: { kind: 'categorical', title: column.name, entries }, entryOf };
}

function encodeNumeric(column: Extract<ColumnData, { kind: 'numeric' }>): Encoding {
  let min = Infinity;
  let max = -Infinity;
  let missing = 0;
  for (const v of column.values) {
    if (Number.isNaN(v)) missing += 1;
    else {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  const span = max > min ? max - min : 1;
  const codes = new Float32Array(column.values.length);
  column.values.forEach((v, i) => {
    codes[i] = Number.isNaN(v) ? NUMERIC_BINS : Math.min(NUMERIC_BINS - 1, Math.floor(((v - min) / span) * NUMERIC_BINS));
  });
  const palette = [...viridis(NUMERIC_BINS), MISSING];
  if (!Number.isFinite(min)) {
    min = 0;
    max = 0;
  }
  return { codes, palette, legend: { kind: 'numeric', title: column.name, min, max, missing } };
}

/** Points coloured by cluster: one colour a cluster (biggest first get the first palette colours), points in
 * no cluster grey. ``clusters`` lists the clusters biggest first; ``labels`` each point's cluster id. */
export function encodeClusters(labels: Int32Array, clusters: Cluster[], title = 'clusters'): Encoding {
  const k = clusters.length;
  const palette = [...categoricalPalette(k), MISSING];
  const index = new Map<number, number>(clusters.map((c, i) => [c.id, i]));
  const counts = new Array<number>(k + 1).fill(0);
  const codes = new Float32Array(labels.length);
  const entryOf = new Int32Array(labels.length);
  let other = 0;
  labels.forEach((id, i) => {
    const code = index.get(id);
    if (code === undefined) {
      codes[i] = k;
      if (id >= 0) other += 1;
    } else codes[i] = code;
    counts[codes[i]] += 1;
  });
  const entries: LegendEntry[] = clusters.map((c, i) => ({ label: c.label, color: palette[i], count: counts[i], key: String(c.id) }));
  const unclustered = counts[k] - other;
  if (unclustered > 0) entries.push({ label: 'unclustered', color: MISSING, count: unclustered, key: '-1' });
  if (other > 0) entries.push({ label: 'other clusters', color: MISSING, count: other });
  const unclusteredEntry = k;
  const otherEntry = unclustered > 0 ? k + 1 : k;
  labels.forEach((id, i) => {
    entryOf[i] = codes[i] < k ? codes[i] : id >= 0 ? otherEntry : unclusteredEntry;
  });
  return { codes, palette, legend: { kind: 'categorical', title, entries }, entryOf };
}

/** Per-item honesty of a layout (see /api/spaces/{space}/layouts/{method}/honesty). */
export type HonestyKind = 'knn_recall' | 'trustworthiness' | 'continuity';

export const HONESTY_LABELS: Record<HonestyKind, string> = {
  knn_recall: 'kNN recall',
  trustworthiness: 'trustworthiness',
  continuity: 'continuity',
};

/** What a honesty value of an item says, for ``k`` neighbours. */
export function honestyNote(kind: HonestyKind, k: number): string {
  switch (kind) {
    case 'knn_recall':
      return `Share of an item's ${k} true neighbours that are also its ${k} map neighbours (1 = all kept).`;
    case 'trustworthiness':
      return `1 = the item's ${k} map neighbours are all true neighbours; lower = points from far away in the original space intrude.`;
    case 'continuity':
      return `1 = the item's ${k} true neighbours all stay near it on the map; lower = true neighbours torn away.`;
  }
}

/** Values in [0, 1] on a fixed viridis ramp (so different arrays compare), NaN grey as ``missingLabel``. */
export function encodeUnit(values: Float32Array, title: string, note: string, missingLabel: string): Encoding {
  const codes = new Float32Array(values.length);
  let missing = 0;
  values.forEach((v, i) => {
    if (Number.isNaN(v)) {
      missing += 1;
      codes[i] = NUMERIC_BINS;
    } else codes[i] = Math.max(0, Math.min(NUMERIC_BINS - 1, Math.floor(v * NUMERIC_BINS)));
  });
  return {
    codes,
    palette: [...viridis(NUMERIC_BINS), MISSING],
    legend: { kind: 'numeric', title, min: 0, max: 1, missing, note, missingLabel },
  };
}

/** A honesty column on a fixed 0..1 ramp (so layouts compare), NaN (not measured) grey. */
export function encodeHonesty(values: Float32Array, kind: HonestyKind, k: number): Encoding {
  return encodeUnit(values, `map honesty: ${HONESTY_LABELS[kind]}@${k}`, honestyNote(kind, k), 'not measured');
}

/** Opacity of points that are neither selected nor neighbours while something is selected. */
export const DIMMED = 0.35;

/** What is highlighted: the selected row and its neighbours (``rows`` holds both). */
export interface Highlight {
  focus: number | null;
  rows: Set<number>;
}

export const NO_HIGHLIGHT: Highlight = { focus: null, rows: new Set() };

/** The RGB ``row`` is drawn with on the map and on the globe: its value's colour, the highlight colour,
 * or its value's colour dimmed while something else is selected. */
export function drawnRgb(encoding: Encoding, row: number, highlight: Highlight): Rgb {
  if (highlight.rows.has(row)) return hexToRgb(ACTIVE);
  const base = hexToRgb(encoding.palette[encoding.codes[row]]);
  return highlight.focus === null ? base : blend(base, hexToRgb(BACKGROUND), DIMMED);
}

/** Points coloured by their score: a viridis ramp from the lowest to the highest similarity (semantic), or
 * matches bright and the rest dark (keyword). */
export function encodeScores(scores: Float32Array, result: SearchResult): Encoding {
  const codes = new Float32Array(scores.length);
  if (result.mode === 'keyword') {
    let hits = 0;
    const entryOf = new Int32Array(scores.length);
    scores.forEach((v, i) => {
      codes[i] = v > 0 ? 1 : 0;
      entryOf[i] = v > 0 ? 0 : 1;
      hits += v > 0 ? 1 : 0;
    });
    return {
      codes,
      entryOf,
      palette: ['#2a3140', '#ffd166'],
      legend: {
        kind: 'categorical',
        title: `words: “${result.query}”`,
        entries: [
          { label: 'match', color: '#ffd166', count: hits },
          { label: 'no match', color: '#2a3140', count: scores.length - hits },
        ],
      },
    };
  }
  let min = Infinity;
  let max = -Infinity;
  for (const v of scores) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const span = max > min ? max - min : 1;
  scores.forEach((v, i) => {
    codes[i] = Math.min(NUMERIC_BINS - 1, Math.floor(((v - min) / span) * NUMERIC_BINS));
  });
  return {
    codes,
    palette: viridis(NUMERIC_BINS),
    legend: {
      kind: 'numeric',
      title: `similarity to “${result.query}”`,
      min,
      max,
      missing: 0,
      note:
        result.route?.route === 'translator'
          ? `Cosine similarity in the original space; the query was embedded by space ${result.route.via}’s model and translated (this space has no text model).`
          : 'Cosine similarity in the original space, computed on the server with the space’s own model.',
    },
  };
}

/** The legend of ``encoding`` counting only the points that pass the filter (``keep``: 1 a kept point; null: no
 * filter). A categorical legend's entries then count kept points (``total`` keeps the count before the filter) and
 * the title says so; other legends are returned as they are. */
export function filteredLegend(encoding: Encoding, keep: ArrayLike<number> | null): Legend {
  const legend = encoding.legend;
  if (!keep || legend.kind !== 'categorical' || !encoding.entryOf || encoding.entryOf.length !== keep.length) return legend;
  const counts = new Array<number>(legend.entries.length).fill(0);
  let kept = 0;
  for (let i = 0; i < keep.length; i++) {
    if (!keep[i]) continue;
    kept += 1;
    const e = encoding.entryOf[i];
    if (e >= 0 && e < counts.length) counts[e] += 1;
  }
  return {
    kind: 'categorical',
    title: `${legend.title} · ${kept.toLocaleString()} filtered`,
    entries: legend.entries.map((e, i) => ({ ...e, count: counts[i], total: e.count })),
  };
}

export interface CategoryCount {
  label: string;
  color: string;
  count: number;
}

/** How ``rows`` split over the categories of a categorical ``encoding``, most first (null for numeric ones). */
export function categoryCounts(rows: ArrayLike<number>, encoding: Encoding | null): CategoryCount[] | null {
  if (!encoding || encoding.legend.kind !== 'categorical') return null;
  const entries = encoding.legend.entries;
  const counts = new Map<number, number>();
  for (let i = 0; i < rows.length; i++) {
    const code = encoding.codes[rows[i]];
    counts.set(code, (counts.get(code) ?? 0) + 1);
  }
  const out: CategoryCount[] = [];
  for (const [code, count] of counts) {
    const color = encoding.palette[code];
    // legend entry i describes palette colour i; the trailing grey entries share the last colour
    const entry = entries[code]?.color === color ? entries[code] : entries.find((e) => e.color === color);
    out.push({ label: entry?.label ?? 'other', color, count });
  }
  return out.sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
}
