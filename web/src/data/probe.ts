// The probe figures of the compare view (``GET /api/probe``): what each space knows of a label, as table rows.
// No DOM.
import type * as schema from './schema';

/** ``/api/probe``: the label, the items probed and each space's figures. */
export type ProbeResult = schema.ProbeOut;

/** One space's probe of a label: classes (logistic regression, k-NN) or a number (ridge R²). */
export type ProbeSpace = schema.SpaceProbe;

/** A row of the probe table: the metric, a tooltip, and one cell per space (``value [lo, hi]``). */
export interface ProbeRow {
  metric: string;
  title: string;
  cells: string[];
  /** The raw figure per space (NaN where absent), for the tests' read-back. */
  values: number[];
}

const num = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? NaN : v);

/** ``0.912 [0.880, 0.941]``; ``–`` for a missing figure. */
export function withInterval(value: number | null | undefined, ci?: (number | null)[] | null): string {
  const v = num(value);
  if (Number.isNaN(v)) return '–';
  const [lo, hi] = (ci ?? []).map(num);
  return lo !== undefined && hi !== undefined && !Number.isNaN(lo) && !Number.isNaN(hi)
    ? `${v.toFixed(3)} [${lo.toFixed(3)}, ${hi.toFixed(3)}]`
    : v.toFixed(3);
}

/** The table rows of ``result`` for ``spaces`` (in that column order). */
export function probeRows(result: ProbeResult, spaces: string[]): ProbeRow[] {
  const docs = spaces.map((s) => result.spaces[s]);
  const numeric = docs.some((d) => d?.kind === 'numeric');
  const row = (metric: string, title: string, pick: (d: ProbeSpace) => [number | null | undefined, (number | null)[] | null | undefined]): ProbeRow => {
    const picked = docs.map((d) => (d ? pick(d) : [null, null] as const));
    return { metric, title, cells: picked.map(([v, ci]) => withInterval(v, ci)), values: picked.map(([v]) => num(v)) };
  };
  if (numeric)
    return [
      row('ridge R²', 'Out-of-fold R² of a ridge regression, with its bootstrap 95% interval.', (d) => [d.ridge?.r2, d.ridge?.r2_ci95]),
      row('control (shuffled)', 'The same regression on shuffled labels, same folds: the chance level.', (d) => [d.control, null]),
    ];
  return [
    row('logreg accuracy', 'Logistic regression, out-of-fold accuracy with its bootstrap 95% interval.', (d) => [d.logreg?.accuracy, d.logreg?.accuracy_ci95]),
    row('logreg macro-F1', 'Logistic regression, out-of-fold macro-F1 with its bootstrap 95% interval.', (d) => [d.logreg?.macro_f1, d.logreg?.macro_f1_ci95]),
    row('kNN accuracy', 'k-nearest-neighbour vote (cosine), out-of-fold accuracy with its bootstrap 95% interval.', (d) => [d.knn?.accuracy, d.knn?.accuracy_ci95]),
    row('kNN macro-F1', 'k-nearest-neighbour vote (cosine), out-of-fold macro-F1 with its bootstrap 95% interval.', (d) => [d.knn?.macro_f1, d.knn?.macro_f1_ci95]),
    row('control (shuffled)', 'Logistic regression on shuffled labels, same folds: the chance level measured on these items.', (d) => [d.control, null]),
    row('base rate', 'The share of the largest class: what always guessing it scores.', (d) => [d.base_rate, null]),
  ];
}

/** One line under the table: how many items were probed, in how many folds, which classes were left out. */
export function probeNote(result: ProbeResult, spaces: string[], heldOut: boolean): string {
  const doc = spaces.map((s) => result.spaces[s]).find((d) => d);
  if (!doc) return '';
  const parts = [`${doc.n.toLocaleString()} ${heldOut ? 'held-out ' : ''}items`, `${doc.folds}-fold cross-validation`];
  if (doc.sample) parts.push(`a seeded sample of ${doc.sample.toLocaleString()}`);
  const left = doc.left_out ?? [];
  if (left.length) parts.push(`left out (fewer items than folds): ${left.map((c) => `${c.label} (${c.count})`).join(', ')}`);
  return parts.join(' · ');
}
