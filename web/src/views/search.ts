// Search results: a histogram of the query's similarity to every item with the top-k cut, and the ranked hits.
import type { SearchMode, SearchResult } from '../data/api';
import { routeText } from '../data/route';
import { $, h, svgEl } from './dom';
import { thumbImg } from './thumb';

/** Bars of the similarity histogram (log-scaled counts, so the few best items stay visible) and the cut. */
export function similarityHistogram(result: SearchResult): SVGSVGElement | null {
  const hist = result.histogram;
  if (!hist) return null;
  const W = 360;
  const H = 130;
  const m = { l: 8, r: 8, t: 8, b: 28 };
  const lo = hist.edges[0];
  const hi = hist.edges[hist.edges.length - 1];
  const x = (v: number) => m.l + ((v - lo) / (hi - lo || 1)) * (W - m.l - m.r);
  const top = Math.log1p(Math.max(...hist.counts));
  const y = (c: number) => H - m.b - (Math.log1p(c) / (top || 1)) * (H - m.t - m.b);
  const svg = svgEl('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': 'similarity of every item to the query' });
  hist.counts.forEach((c, i) => {
    const x0 = x(hist.edges[i]);
    const x1 = x(hist.edges[i + 1]);
    const above = result.cut !== null && hist.edges[i + 1] > result.cut;
    const bar = svgEl('rect', { x: x0 + 0.5, y: y(c), width: Math.max(0.5, x1 - x0 - 1), height: H - m.b - y(c), class: above ? 'hbar on' : 'hbar' });
    bar.append(svgEl('title', {}, `${c} items with similarity ${hist.edges[i].toFixed(3)}…${hist.edges[i + 1].toFixed(3)}`));
    svg.append(bar);
  });
  if (result.cut !== null) {
    const cx = x(result.cut);
    svg.append(svgEl('line', { x1: cx, x2: cx, y1: m.t, y2: H - m.b, class: 'cut' }));
    svg.append(svgEl('text', { x: Math.min(cx + 4, W - 70), y: m.t + 10, class: 'dot-label' }, `top ${result.hits.length}`));
  }
  const anchors = ['start', 'middle', 'end'];
  [lo, (lo + hi) / 2, hi].forEach((v, i) => {
    svg.append(svgEl('text', { x: x(v), y: H - m.b + 14, 'text-anchor': anchors[i], class: 'tick' }, v.toFixed(2)));
  });
  svg.append(svgEl('text', { x: W / 2, y: H - 2, 'text-anchor': 'middle', class: 'axis' }, 'cosine similarity to the query (counts on a log scale)'));
  return svg;
}

/** The results sheet body: a summary line, the histogram (semantic) and the clickable hits. */
export function searchView(result: SearchResult, select: (row: number) => void): HTMLElement {
  const summary =
    result.mode === 'semantic'
      ? `The ${result.hits.length} items most similar in meaning to the query, out of ${result.total.toLocaleString()}; the map is coloured by similarity.`
      : `${result.total.toLocaleString()} items contain these words${result.total > result.hits.length ? ` (first ${result.hits.length} shown)` : ''}; the map lights them up.`;
  const list = h('ol', { class: 'neighbors hits', id: 'search-hits' });
  for (const hit of result.hits) {
    const li = h(
      'li',
      { tabindex: 0, 'data-row': hit.row },
      h('span', { class: 'score' }, result.mode === 'semantic' ? hit.score.toFixed(3) : '✓'),
      thumbImg(hit.id, hit.has_image, 40, 'thumb-sm'),
      h('span', { class: 'hit-text' }, h('span', { class: 'hit-id' }, hit.id), ' ', hit.text ?? ''),
    );
    li.addEventListener('click', () => select(hit.row));
    li.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') select(hit.row);
      else if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
        ev.preventDefault();
        const next = (ev.key === 'ArrowDown' ? li.nextElementSibling : li.previousElementSibling) as HTMLElement | null;
        if (next) next.focus();
        else if (ev.key === 'ArrowUp') document.getElementById('search')?.focus();
      }
    });
    list.append(li);
  }
  const route = routeText(result.route);
  const how = route ? h('p', { class: 'note', id: 'search-route' }, route) : null;
  return h('div', { class: 'search-view', id: 'search-view' }, h('p', { class: 'note' }, summary), how, similarityHistogram(result), list);
}

/** The header's search box (#search-form: #search and #search-mode): ``submit`` gets the trimmed query ('' to
 * clear the search); ArrowDown from the box walks into the results (Enter on a result opens it). */
export function wireSearchForm(submit: (q: string, mode: SearchMode) => void): void {
  $('search').addEventListener('keydown', (ev) => {
    if (ev.key !== 'ArrowDown') return;
    const first = document.querySelector<HTMLElement>('#search-hits li');
    if (first) {
      ev.preventDefault();
      first.focus();
    }
  });
  $('search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    submit(($('search') as HTMLInputElement).value.trim(), ($('search-mode') as HTMLSelectElement).value as SearchMode);
  });
}

/** Put ``q`` and ``mode`` in the search box (a search restored from the URL). */
export function setSearchForm(q: string, mode: SearchMode): void {
  ($('search') as HTMLInputElement).value = q;
  ($('search-mode') as HTMLSelectElement).value = mode;
}
