// The translate view: how well fitted maps carry vectors from one space to another, on held-out shared items.
import type { TranslateResult } from '../data/api';
import { h, spreadLabels, svgEl } from './dom';

const COLORS = ['#7aa2f7', '#f28e2b', '#59a14f', '#e15759', '#b07aa1', '#76b7b2'];


const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

/** Top-1 accuracy on the held-out pairs against the number of training pairs (log scale), a line per method. */
export function curveChart(result: TranslateResult): SVGSVGElement | null {
  if (!result.curve.length) return null;
  const methods = [...new Set(result.curve.map((p) => p.method))];
  const ns = result.curve.map((p) => p.n_train);
  const lo = Math.log2(Math.min(...ns));
  const hi = Math.log2(Math.max(...ns));
  const W = 360;
  const H = 200;
  // the methods' names stand in a gutter right of the curves, each at its curve's end, moved apart so none overlaps
  const gutter = 8 + 6 * Math.max(...methods.map((mth) => mth.length));
  const m = { l: 40, r: gutter, t: 10, b: 32 };
  const x = (n: number) => m.l + ((Math.log2(n) - lo) / (hi - lo || 1)) * (W - m.l - m.r);
  const y = (v: number) => m.t + (1 - v) * (H - m.t - m.b);
  const svg = svgEl('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': 'top-1 accuracy against training pairs' });
  for (const v of [0, 0.5, 1]) {
    svg.append(svgEl('line', { x1: m.l, x2: W - m.r, y1: y(v), y2: y(v), class: 'grid' }));
    svg.append(svgEl('text', { x: m.l - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, v.toFixed(1)));
  }
  for (const n of [...new Set(ns)]) svg.append(svgEl('text', { x: x(n), y: H - m.b + 13, 'text-anchor': 'middle', class: 'tick' }, String(n)));
  svg.append(svgEl('text', { x: (m.l + W - m.r) / 2, y: H - 3, 'text-anchor': 'middle', class: 'axis' }, 'training pairs (held-out top-1 accuracy)'));
  const curves = methods.map((method) => result.curve.filter((p) => p.method === method).sort((a, b) => a.n_train - b.n_train));
  const labelY = spreadLabels(curves.map((pts) => y(pts[pts.length - 1].top1) + 3.5), 12, 8, H - m.b);
  methods.forEach((method, i) => {
    const pts = curves[i];
    const color = COLORS[i % COLORS.length];
    svg.append(svgEl('polyline', { points: pts.map((p) => `${x(p.n_train)},${y(p.top1)}`).join(' '), fill: 'none', stroke: color, 'stroke-width': 1.5, 'data-method': method }));
    svg.append(svgEl('text', { x: W - m.r + 5, y: labelY[i], 'text-anchor': 'start', style: `fill:${color}`, class: 'dot-label', 'data-method': method }, method));
  });
  return svg;
}

/** The table of methods (maps first, then baselines), the warning, and the curve. */
export function translateView(result: TranslateResult): HTMLElement {
  const head = h('tr', {}, ...['method', 'cosine', 'gain', 'top-1', 'top-10', 'R@10'].map((t) => h('th', {}, t)));
  const rows = result.methods.map((r) =>
    h(
      'tr',
      { class: r.method === result.best ? 'frontier-row' : undefined, 'data-method': r.method },
      h('td', {}, r.method + (r.baseline ? ' (baseline)' : '')),
      h('td', { class: 'num' }, r.mean_cosine.toFixed(3)),
      h('td', { class: 'num' }, (r.gain_over_mean_baseline >= 0 ? '+' : '') + r.gain_over_mean_baseline.toFixed(3)),
      h('td', { class: 'num' }, pct(r.top1)),
      h('td', { class: 'num' }, pct(r.top10)),
      h('td', { class: 'num' }, pct(r['recall@10'])),
    ),
  );
  const note =
    `${result.pairs.toLocaleString()} items in both spaces (${result.dims[0]} → ${result.dims[1]} dims); ${result.protocol}` +
    (result.protocol === 'held-out' ? ` on ${result.n_test.toLocaleString()} pairs never used for fitting.` : '.') +
    ' Cosine: mean cosine of the translated vector to the true one; gain: over predicting the target space’s mean ' +
    'vector; top-1/top-10: the true item is the nearest (among the 10 nearest) of all held-out targets; R@10: ' +
    'overlap of the 10 neighbours found with translated vectors and with native ones.' +
    (result.stale ? ' The spaces changed since this was measured.' : '');
  return h(
    'div',
    { class: 'translate', id: 'translate-view' },
    result.warning ? h('p', { class: 'warning', id: 'translate-warning' }, result.warning) : null,
    h('p', { class: 'note' }, note),
    h('table', { class: 'table' }, h('thead', {}, head), h('tbody', {}, ...rows)),
    curveChart(result),
  );
}
