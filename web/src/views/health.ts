// The Health view: every space-health check with its verdict and threshold, the histogram of pair cosine
// similarities, and same- vs different-label pairs (ROC AUC) when the items have a categorical column.
// Data: GET api/spaces/{space}/health (src/embedscope/server/routes/health.py): small JSON, counts only.
import { ApiError, type DimensionStats } from '../data/api';
import { formatCount, formatNumber, h, svgEl } from './dom';


/** One check as ``embedscope health --json`` prints it, with its title (``CHECKS`` in
 * src/embedscope/diagnostics.py); extra figures vary by check. */
export interface HealthCheck {
  name: string;
  title: string;
  value: unknown;
  verdict: string;
  threshold: unknown;
  ok: boolean;
  [extra: string]: unknown;
}

export interface HealthHistogram {
  counts: number[];
  edges: number[];
  n: number;
  exact?: boolean;
  population?: number;
  seed?: number | null;
  stats?: Record<string, number>;
  metric?: string;
}

export interface HealthLabels {
  column: string;
  auc: number | null;
  verdict: string;
  labels: number;
  items: number;
  exact: boolean;
  same: HealthHistogram;
  different: HealthHistogram;
}

export interface Health {
  space: string;
  items: number;
  checks: HealthCheck[];
  histogram: HealthHistogram;
  labels: HealthLabels | null;
}

export async function getHealth(space: string): Promise<Health> {
  const response = await fetch(`api/spaces/${encodeURIComponent(space)}/health`, { credentials: 'same-origin' });
  const body = await response.json();
  if (!response.ok) throw new ApiError(response.status, typeof body.detail === 'string' ? body.detail : 'failed');
  return body as Health;
}


const COLORS = ['#3fb27f', '#e0665a'];

interface Series {
  hist: HealthHistogram;
  cls: string;
  label: string;
}

/** Bars of the first series (or, with several, normalised step outlines), on shared bin edges. */
export function histogramChart(series: Series[], title: string, id: string): SVGSVGElement {
  const W = 400;
  const H = 200;
  const m = { l: 44, r: 10, t: 18, b: 32 };
  const edges = series[0].hist.edges;
  const lo = edges[0];
  const hi = edges[edges.length - 1];
  const density = series.length > 1;
  const values = series.map(({ hist }) => {
    const total = hist.counts.reduce((a, b) => a + b, 0) || 1;
    return hist.counts.map((c) => (density ? c / total : c));
  });
  const top = Math.max(1e-12, ...values.flat());
  const x = (v: number) => m.l + ((v - lo) / (hi - lo || 1)) * (W - m.l - m.r);
  const y = (v: number) => m.t + (1 - v / top) * (H - m.t - m.b);
  const svg = svgEl('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': title, id });
  svg.append(svgEl('text', { x: m.l, y: 11, class: 'axis' }, title));
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    svg.append(svgEl('line', { x1: x(v), x2: x(v), y1: m.t, y2: H - m.b, class: 'grid' }));
    svg.append(svgEl('text', { x: x(v), y: H - m.b + 13, 'text-anchor': 'middle', class: 'tick' }, formatNumber(v)));
  }
  for (const f of [0, 0.5, 1]) {
    svg.append(svgEl('text', { x: m.l - 5, y: y(top * f) + 4, 'text-anchor': 'end', class: 'tick' },
      density ? `${(100 * top * f).toFixed(0)}%` : formatCount(top * f)));
  }
  const metric = series[0].hist.metric ?? 'cosine';
  svg.append(svgEl('text', { x: (m.l + W - m.r) / 2, y: H - 3, 'text-anchor': 'middle', class: 'axis' }, `${metric} similarity`));
  series.forEach(({ hist, cls, label }, k) => {
    const vals = values[k];
    if (!density) {
      vals.forEach((v, i) => {
        const x0 = x(hist.edges[i]);
        const bar = svgEl('rect', { x: x0, y: y(v), width: Math.max(0.5, x(hist.edges[i + 1]) - x0 - 0.5), height: y(0) - y(v),
          class: `hist-bar ${cls}`, fill: '#5b8def', 'data-count': hist.counts[i] });
        bar.append(svgEl('title', {}, `${formatNumber(hist.edges[i])} to ${formatNumber(hist.edges[i + 1])}: ${hist.counts[i]} pairs`));
        svg.append(bar);
      });
      return;
    }
    const pts: string[] = [`${x(hist.edges[0])},${y(0)}`];
    vals.forEach((v, i) => pts.push(`${x(hist.edges[i])},${y(v)}`, `${x(hist.edges[i + 1])},${y(v)}`));
    pts.push(`${x(hist.edges[hist.edges.length - 1])},${y(0)}`);
    const color = COLORS[k % COLORS.length];
    svg.append(svgEl('polyline', { points: pts.join(' '), class: `step ${cls}`, fill: color, 'fill-opacity': 0.18, stroke: color,
      'stroke-width': 1.5, 'data-series': label }));
    svg.append(svgEl('text', { x: W - m.r, y: m.t + 12 + 13 * k, 'text-anchor': 'end', class: 'tick', style: `fill: ${color}` }, label));
  });
  return svg;
}

function shown(v: unknown): string {
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (v === null || v === undefined) return '–';
  if (Array.isArray(v)) return v.length ? v.map(shown).join(', ') : 'none';
  if (typeof v === 'object') return Object.entries(v as Record<string, unknown>).map(([k, x]) => `${k}: ${shown(x)}`).join(', ');
  return String(v);
}

/** The whole view: the pair histogram, label separation, and the table of checks. */
export function healthView(health: Health, dims: DimensionStats | null = null): HTMLElement {
  const hist = health.histogram;
  const how = hist.exact
    ? `all ${hist.n.toLocaleString()} pairs`
    : `a random sample of ${hist.n.toLocaleString()} of ${(hist.population ?? 0).toLocaleString()} pairs (seed ${hist.seed})`;
  const st = hist.stats ?? {};
  const rows = health.checks.flatMap((c) => [
    h(
      'tr',
      { 'data-check': c.name, class: c.ok ? 'ok' : 'warn' },
      h('td', {}, h('span', { class: 'verdict', style: `color: ${c.ok ? '#3fb27f' : '#e0a040'}` }, c.ok ? '✓ ' : '! '),
        c.title),
      h('td', { class: 'num' }, shown(c.value)),
      h('td', { class: 'num' }, shown(c.threshold)),
    ),
    h('tr', { class: 'verdict-row', 'data-verdict': c.name }, h('td', { colspan: 3, style: 'color: var(--muted); padding-bottom: 8px' }, c.verdict)),
  ]);
  const hubs = health.checks.find((c) => c.name === 'hubness')?.hubs as { id: string; k_occurrence: number }[] | undefined;
  const parts: Node[] = [
    h('p', { class: 'note' },
      `${health.items.toLocaleString()} items. Cosine similarity of ${how}: mean ${formatNumber(st.mean ?? NaN)}, ` +
        `median ${formatNumber(st.p50 ?? NaN)}, 5–95% ${formatNumber(st.p05 ?? NaN)} to ${formatNumber(st.p95 ?? NaN)}. ` +
        'A mean well above 0 means two random items already look similar: judge scores against this.'),
    histogramChart([{ hist, cls: 'pairs', label: 'pairs' }], 'pair similarities', 'health-hist'),
  ];
  if (health.labels) {
    const lab = health.labels;
    parts.push(
      histogramChart(
        [
          { hist: lab.same, cls: 'same', label: 'same label' },
          { hist: lab.different, cls: 'different', label: 'different label' },
        ],
        `${lab.column}: ROC AUC ${lab.auc === null ? '–' : lab.auc.toFixed(3)}`,
        'health-labels',
      ),
      h('p', { class: 'note' }, `${lab.verdict} (${lab.labels} labels, ${lab.exact ? 'all pairs' : 'sampled pairs'}).`),
    );
  }
  parts.push(
    h('table', { class: 'table health-table' },
      h('thead', {}, h('tr', {}, ...['check (verdict below)', 'value', 'threshold'].map((t) => h('th', {}, t)))),
      h('tbody', {}, ...rows)),
  );
  if (hubs && hubs.length) {
    parts.push(h('p', { class: 'note' }, `Top hubs (in how many neighbour lists): ${hubs.slice(0, 5).map((x) => `${x.id} (${x.k_occurrence})`).join(', ')}.`));
  }
  if (dims) {
    const rogueCheck = health.checks.find((c) => c.name === 'rogue_dimensions');
    const rogue = Array.isArray(rogueCheck?.value) ? (rogueCheck.value as unknown[]).map(Number) : [];
    parts.push(
      h('p', { class: 'note' }, 'Each dimension across the space. A bar far from 0 with little spread is a coordinate that ' +
        'is nearly the same in every vector: it adds the same amount to every similarity (rogue dimensions, in orange).'),
      dimensionChart(dims, rogue),
    );
  }
  return h('div', { class: 'health', id: 'health-view' }, ...parts);
}

/** Mean ± one standard deviation of every dimension (a bar each; rogue dimensions in orange, labelled). */
export function dimensionChart(dims: DimensionStats, rogue: number[]): SVGSVGElement {
  const d = dims.mean.length;
  const W = 360;
  const H = 150;
  const m = { l: 34, r: 6, t: 14, b: 26 };
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < d; i++) {
    lo = Math.min(lo, dims.mean[i] - dims.std[i]);
    hi = Math.max(hi, dims.mean[i] + dims.std[i]);
  }
  lo = Math.min(lo, 0);
  hi = Math.max(hi, 0);
  const x = (i: number) => m.l + ((i + 0.5) / d) * (W - m.l - m.r);
  const y = (v: number) => m.t + ((hi - v) / (hi - lo || 1)) * (H - m.t - m.b);
  const bw = Math.max(0.6, (W - m.l - m.r) / d - 0.3);
  const chart = svgEl('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', id: 'health-dims', role: 'img', 'aria-label': 'mean and spread of each dimension' });
  chart.append(svgEl('line', { x1: m.l, x2: W - m.r, y1: y(0), y2: y(0), class: 'grid' }));
  for (const v of [lo, hi]) chart.append(svgEl('text', { x: m.l - 4, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, v.toFixed(2)));
  const isRogue = new Set(rogue);
  for (let i = 0; i < d; i++) {
    const top = y(dims.mean[i] + dims.std[i]);
    const bar = svgEl('rect', { x: x(i) - bw / 2, y: top, width: bw, height: Math.max(0.5, y(dims.mean[i] - dims.std[i]) - top), class: isRogue.has(i) ? 'dim rogue' : 'dim' });
    bar.append(svgEl('title', {}, `dimension ${i}: mean ${dims.mean[i].toFixed(4)}, std ${dims.std[i].toFixed(4)}, min ${dims.min[i].toFixed(3)}, max ${dims.max[i].toFixed(3)}`));
    chart.append(bar);
    if (isRogue.has(i)) chart.append(svgEl('text', { x: x(i), y: top - 3, 'text-anchor': 'middle', class: 'dot-label' }, String(i)));
  }
  chart.append(svgEl('text', { x: (m.l + W) / 2, y: H - 4, 'text-anchor': 'middle', class: 'axis' }, `dimension (0…${d - 1}): mean ± one standard deviation`));
  return chart;
}
