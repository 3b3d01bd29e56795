// The compare view's probe panel: what each of the two spaces knows of a label column (``GET /api/probe``):
// logistic-regression and k-NN accuracy and macro-F1 with their 95% intervals, the shuffled-label control and the
// base rate, on the held-out items of a tuned space when the view shows only those.
import { type ProbeResult, probeNote, probeRows } from '../data/probe';
import { h } from './dom';

/** The probe table of ``result``: a row a figure, a column a space (the better figure of a row in bold when the
 * intervals do not overlap). */
export function probeTable(result: ProbeResult, spaces: string[], heldOut: boolean): HTMLElement {
  const rows = probeRows(result, spaces);
  const head = h('tr', {}, h('th', {}, result.label), ...spaces.map((s) => h('th', { class: 'num' }, s)));
  const body = rows.map((r) =>
    h(
      'tr',
      { 'data-metric': r.metric, title: r.title },
      h('td', {}, r.metric),
      ...r.cells.map((c) => h('td', { class: 'num' }, c)),
    ),
  );
  return h(
    'div',
    { id: 'compare-probe-result' },
    h('table', { class: 'table probe-table', id: 'compare-probe-table' }, h('thead', {}, head), h('tbody', {}, ...body)),
    h('p', { class: 'note', id: 'compare-probe-note' }, probeNote(result, spaces, heldOut)),
  );
}

/** What the panel says before a label column is chosen, while probing, or when the probe failed. */
export function probeMessage(text: string, error = false): HTMLElement {
  return h('p', { class: error ? 'note probe-error' : 'note', id: 'compare-probe-message', role: error ? 'alert' : undefined }, text);
}
