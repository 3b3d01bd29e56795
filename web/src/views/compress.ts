// The compression view: recall@10 against bytes per vector per codec (log scale), the frontier, and the table.
import type { CompressResult, CompressRow } from '../data/api';
import { h, svgEl } from './dom';



const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

/** Recall@10 (y, 0..1) against bytes per vector (x, log2) with the frontier drawn as a step line. */
export function compressChart(result: CompressResult, key: keyof CompressRow = 'recall@10'): SVGSVGElement {
  const W = 360;
  const H = 230;
  const m = { l: 44, r: 12, t: 12, b: 34 };
  const rows = result.rows;
  const xs = rows.map((r) => Math.log2(r.bytes_per_vector));
  const lo = Math.floor(Math.min(...xs));
  const hi = Math.ceil(Math.max(...xs));
  const x = (b: number) => m.l + ((Math.log2(b) - lo) / Math.max(1, hi - lo)) * (W - m.l - m.r);
  const y = (v: number) => m.t + (1 - v) * (H - m.t - m.b);
  const svg = svgEl('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': `${key} against bytes per vector` });
  for (let e = lo; e <= hi; e++) {
    const px = x(2 ** e);
    svg.append(svgEl('line', { x1: px, x2: px, y1: m.t, y2: H - m.b, class: 'grid' }));
    svg.append(svgEl('text', { x: px, y: H - m.b + 14, 'text-anchor': 'middle', class: 'tick' }, `${2 ** e}`));
  }
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    svg.append(svgEl('line', { x1: m.l, x2: W - m.r, y1: y(v), y2: y(v), class: 'grid' }));
    svg.append(svgEl('text', { x: m.l - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, v.toFixed(2)));
  }
  svg.append(svgEl('text', { x: (m.l + W - m.r) / 2, y: H - 4, 'text-anchor': 'middle', class: 'axis' }, 'bytes per vector (log scale)'));
  svg.append(svgEl('text', { x: 12, y: (m.t + H - m.b) / 2, transform: `rotate(-90 12 ${(m.t + H - m.b) / 2})`, 'text-anchor': 'middle', class: 'axis' }, String(key)));
  const front = rows.filter((r) => result.frontier.includes(r.codec)).sort((a, b) => a.bytes_per_vector - b.bytes_per_vector);
  if (front.length > 1) {
    const pts = front.map((r) => `${x(r.bytes_per_vector)},${y(r[key] as number)}`).join(' ');
    svg.append(svgEl('polyline', { points: pts, class: 'frontier' }));
  }
  for (const r of rows) {
    const on = result.frontier.includes(r.codec);
    const c = svgEl('circle', { cx: x(r.bytes_per_vector), cy: y(r[key] as number), r: on ? 4.5 : 3.5, class: on ? 'dot on' : 'dot', 'data-codec': r.codec });
    c.append(svgEl('title', {}, `${r.codec}: ${r.bytes_per_vector} B, ${String(key)} ${pct(r[key] as number)}, ${r.query_ms.toFixed(3)} ms/query`));
    svg.append(c);
    if (on) svg.append(svgEl('text', { x: x(r.bytes_per_vector) + 6, y: y(r[key] as number) - 6, class: 'dot-label' }, r.codec));
  }
  return svg;
}

/** The whole view: a short explanation, the chart, and the table (frontier rows marked). */
export function compressView(result: CompressResult): HTMLElement {
  const head = h('tr', {}, ...['codec', 'bytes', 'scanned', 'R@1', 'R@10', 'R@100', 'ms/query'].map((t) => h('th', {}, t)));
  const body = result.rows.map((r) =>
    h(
      'tr',
      { class: result.frontier.includes(r.codec) ? 'frontier-row' : undefined, 'data-codec': r.codec },
      h('td', {}, r.codec),
      h('td', { class: 'num' }, String(r.bytes_per_vector)),
      h('td', { class: 'num' }, String(r.scan_bytes ?? r.bytes_per_vector)),
      h('td', { class: 'num' }, pct(r['recall@1'])),
      h('td', { class: 'num' }, pct(r['recall@10'])),
      h('td', { class: 'num' }, pct(r['recall@100'])),
      h('td', { class: 'num' }, r.query_ms.toFixed(3)),
    ),
  );
  return h(
    'div',
    { class: 'compress', id: 'compress-view' },
    h(
      'p',
      { class: 'note' },
      `Recall of the exact float32 cosine neighbours of ${result.queries.toLocaleString()} held-out queries among ` +
        `${result.items.toLocaleString()} stored ${result.dim}-dim vectors. Highlighted: the efficient frontier ` +
        '(nothing else is as small and at least as accurate at recall@10). Bytes count all a search needs ' +
        '(binary+rescore keeps the float32 vectors to rescore its candidates); scanned: what it reads for every item.' +
        (result.stale ? ' The vectors changed since this was measured.' : ''),
    ),
    compressChart(result),
    h('table', { class: 'table' }, h('thead', {}, head), h('tbody', {}, ...body)),
  );
}
