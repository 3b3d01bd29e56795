// Turns a column into what the map draws: one palette index per point, the palette, and the legend.
import type { ColumnData } from './api';
import { MISSING, PLAIN, categoricalPalette, viridis } from './colors';

/** Numeric columns are cut into this many colour bins (plus one for missing values). */
export const NUMERIC_BINS = 256;

export type Legend =
  | { kind: 'none' }
  | { kind: 'categorical'; title: string; entries: { label: string; color: string; count: number }[] }
  | { kind: 'numeric'; title: string; min: number; max: number; missing: number };

export interface Encoding {
  /** Palette index of each point, in point order. */
  codes: Float32Array;
  /** Hex colours; ``codes`` index into it. */
  palette: string[];
  legend: Legend;
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
  column.codes.forEach((c, i) => {
    const code = c < 0 || c >= k ? k : c;
    codes[i] = code;
    counts[code] += 1;
  });
  const entries = column.categories.map((label, i) => ({ label, color: palette[i], count: counts[i] }));
  if (counts[k] > 0) entries.push({ label: '(missing)', color: MISSING, count: counts[k] });
  return { codes, palette, legend: { kind: 'categorical', title: column.name, entries } };
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
