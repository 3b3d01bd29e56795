// Vectors drawn as strips (no DOM): the diverging colour scale, the grid the dimensions wrap into, which cell is
// under the pointer, the element-wise product and its largest dimensions, and the pair's rank in words.
import type * as schema from './schema';

export type Rgb = [number, number, number];

/** Zero: close to the panel's background (small values fade out); negative: blue; positive: orange. */
export const ZERO: Rgb = [44, 49, 60];
export const NEGATIVE: Rgb = [88, 166, 255];
export const POSITIVE: Rgb = [255, 140, 66];

/** The colour of ``v`` on a scale symmetric around 0 that reaches full colour at ``|v| = max`` (clipped beyond). */
export function divergingColor(v: number, max: number): Rgb {
  if (!Number.isFinite(v) || !(max > 0)) return [...ZERO];
  const t = Math.min(1, Math.abs(v) / max);
  const end = v < 0 ? NEGATIVE : POSITIVE;
  return [0, 1, 2].map((i) => Math.round(ZERO[i] + (end[i] - ZERO[i]) * t)) as Rgb;
}

/** The largest ``|v|`` over some arrays (the scale two strips share); 0 when all are empty or zero. */
export function maxAbs(...arrays: ArrayLike<number>[]): number {
  let m = 0;
  for (const a of arrays) for (let i = 0; i < a.length; i++) if (Math.abs(a[i]) > m) m = Math.abs(a[i]);
  return m;
}

/** How a vector's dimensions wrap into a grid: ``cols`` a row (dimension ``i`` at row ``i / cols``, column
 * ``i % cols``), each cell ``cell`` x ``cellH`` CSS pixels. */
export interface StripGrid {
  dims: number;
  cols: number;
  rows: number;
  cell: number;
  cellH: number;
}

/** Columns tried, widest first: round numbers, so a row starts at a dimension easy to count. */
const COLS = [128, 100, 64, 50, 32, 25, 16];
/** A cell is at least this wide (CSS pixels), so the pointer can land on one dimension. */
export const MIN_CELL = 4;

/** The grid of ``dims`` dimensions in ``width`` CSS pixels: one row when every dimension gets ``MIN_CELL``
 * pixels, else the widest round number of columns that still does; taller cells for short vectors. */
export function stripGrid(dims: number, width: number): StripGrid {
  const w = Math.max(1, Math.floor(width));
  if (dims <= 0) return { dims: 0, cols: 1, rows: 0, cell: w, cellH: 0 };
  let cols = dims * MIN_CELL <= w ? dims : COLS.find((c) => c * MIN_CELL <= w && c < dims) ?? Math.max(1, Math.floor(w / MIN_CELL));
  cols = Math.min(cols, dims);
  const rows = Math.ceil(dims / cols);
  const cell = w / cols;
  const cellH = rows === 1 ? 24 : rows <= 8 ? 10 : 7;
  return { dims, cols, rows, cell, cellH };
}

/** The dimension under the point ``(x, y)`` (CSS pixels from the grid's top-left corner), or null. */
export function dimAt(grid: StripGrid, x: number, y: number): number | null {
  if (x < 0 || y < 0) return null;
  const col = Math.floor(x / grid.cell);
  const row = Math.floor(y / grid.cellH);
  if (col >= grid.cols || row >= grid.rows) return null;
  const dim = row * grid.cols + col;
  return dim < grid.dims ? dim : null;
}

/** The element-wise product ``a * b`` (its sum is the dot product). */
export function product(a: ArrayLike<number>, b: ArrayLike<number>): Float32Array {
  if (a.length !== b.length) throw new Error(`the vectors differ in length: ${a.length} and ${b.length}`);
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] * b[i];
  return out;
}

/** The ``k`` dimensions with the largest ``|v|``, largest first (ties by dimension number). */
export function topDims(v: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: v.length }, (_, i) => i);
  idx.sort((i, j) => Math.abs(v[j]) - Math.abs(v[i]) || i - j);
  return idx.slice(0, Math.max(0, k));
}

/** The sum of ``v`` in float64. */
export function sum(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return s;
}

const int = (n: number) => n.toLocaleString('en-US');

/** The pair's rank in words: exact, with its ties, or estimated, with its interval and sample. */
export function rankText(r: schema.PairRankOut): string {
  const share = (100 * (r.rank - 1)) / Math.max(1, r.pairs);
  const top = share < 0.01 ? '<0.01' : share < 10 ? share.toFixed(2) : share.toFixed(1);
  if (r.exact) {
    const ties = r.ties ? ` (${int(r.ties)} tied, ranks ${int(r.low)}–${int(r.high)})` : '';
    return `rank ${int(r.rank)} of ${int(r.pairs)} pairs by ${r.metric}${ties}: ${top} % of pairs are closer (exact, every pair counted)`;
  }
  return `rank ≈ ${int(r.rank)} of ${int(r.pairs)} pairs by ${r.metric} (95 %: ${int(r.low)}–${int(r.high)}): ≈ ${top} % ` +
    `of pairs are closer (estimated from ${int(r.sample ?? 0)} random pairs, seed ${r.seed ?? 0})`;
}
