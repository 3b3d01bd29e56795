// Side panel of the selected item: text, metadata, and its k nearest neighbours (k and metric editable).
import { METRICS, type Item, type Metric, type Neighbors } from '../data/api';
import { formatNumber, h } from './dom';
import { markedText, sourceLine } from './marked';
import { thumbImg } from './thumb';

export interface PanelHandlers {
  /** A neighbour was clicked. */
  select(row: number): void;
  close(): void;
  /** k or metric changed. */
  query(k: number, metric: Metric): void;
}

export const DEFAULT_K = 10;
const MAX_K = 1000;

export class Panel {
  k = DEFAULT_K;
  metric: Metric = 'cosine';
  private readonly nbrList: HTMLOListElement;
  private readonly body: HTMLElement;
  private readonly nbrStatus: HTMLElement;
  /** Where the selected item's vector is drawn (explorer/vector-view.ts fills it). */
  readonly vectorSlot: HTMLElement;

  constructor(
    private readonly el: HTMLElement,
    handlers: PanelHandlers,
    private readonly colorOf: (row: number) => string,
  ) {
    const close = h('button', { class: 'icon-button', type: 'button', 'aria-label': 'Close', title: 'Close (Esc)' }, '×');
    close.addEventListener('click', () => handlers.close());
    const kInput = h('input', { type: 'number', min: 1, max: MAX_K, value: this.k, id: 'k-input', 'aria-label': 'k' });
    const metricSelect = h('select', { id: 'metric-select', 'aria-label': 'Metric' },
      ...METRICS.map((m) => h('option', { value: m }, m)));
    const changed = () => {
      const k = Math.max(1, Math.min(MAX_K, Math.round(Number(kInput.value) || DEFAULT_K)));
      kInput.value = String(k);
      this.k = k;
      this.metric = metricSelect.value as Metric;
      handlers.query(this.k, this.metric);
    };
    kInput.addEventListener('change', changed);
    metricSelect.addEventListener('change', changed);
    this.body = h('div', { class: 'panel-item' });
    this.vectorSlot = h('div', { class: 'vec-section', id: 'vec-section', hidden: true });
    this.nbrStatus = h('div', { class: 'muted' });
    this.nbrList = h('ol', { class: 'neighbors', id: 'neighbors' });
    this.nbrList.addEventListener('click', (ev) => {
      const li = (ev.target as HTMLElement).closest('li[data-row]') as HTMLElement | null;
      if (li) handlers.select(Number(li.dataset.row));
    });
    this.nbrList.addEventListener('keydown', (ev) => {
      const li = (ev.target as HTMLElement).closest('li[data-row]') as HTMLElement | null;
      if (li && (ev.key === 'Enter' || ev.key === ' ')) {
        ev.preventDefault();
        handlers.select(Number(li.dataset.row));
      }
    });
    el.replaceChildren(
      h('div', { class: 'panel-head' }, h('span', { class: 'panel-title' }, 'Item'), close),
      this.body,
      this.vectorSlot,
      h('div', { class: 'panel-section' },
        h('div', { class: 'section-head' }, h('span', {}, 'Neighbours'),
          h('label', { class: 'inline' }, 'k', kInput), h('label', { class: 'inline' }, metricSelect)),
        this.nbrStatus,
        this.nbrList),
    );
  }

  open(): void {
    this.el.hidden = false;
    document.body.classList.add('panel-open');
  }

  close(): void {
    this.el.hidden = true;
    document.body.classList.remove('panel-open');
    delete this.el.dataset.row;
  }

  loading(row: number): void {
    this.open();
    this.el.dataset.row = String(row);
    this.body.replaceChildren(h('div', { class: 'muted' }, 'Loading…'));
    this.nbrList.replaceChildren();
    this.nbrStatus.textContent = '';
  }

  showItem(item: Item): void {
    const meta = Object.entries(item.metadata);
    const picture = item.has_image ? thumbImg(item.id, true, 128, 'thumb-lg', false) : null;
    if (picture) picture.id = 'item-thumb';
    this.body.replaceChildren(
      ...(picture ? [picture] : []),
      h('div', { class: 'item-id' }, h('span', { class: 'dot', style: `background:${this.colorOf(item.row)}` }), item.id),
      markedText(item, 'p', { class: 'item-text', id: 'item-text' }) ??
        (item.text !== null ? h('p', { class: 'item-text', id: 'item-text' }, item.text) : h('p', { class: 'muted' }, 'No text (vectors only).')),
      sourceLine(item) ?? '',
      meta.length
        ? h('dl', { class: 'meta' }, ...meta.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, display(v))]))
        : '',
    );
  }

  neighborsLoading(): void {
    this.nbrStatus.textContent = 'Finding neighbours…';
  }

  /** List the neighbours; ``mapRanks[i]`` (optional) is how many points the map puts closer to the item than
   * neighbour ``i``: neighbours the map puts far away (rank above ``farRank``) are flagged. */
  showNeighbors(result: Neighbors, mapRanks: number[] = [], farRank = Infinity): void {
    const distance = result.metric === 'euclidean' || result.metric === 'manhattan';
    const far = mapRanks.filter((r) => r > farRank).length;
    this.nbrStatus.title = result.graph && !result.graph.exact
      ? `From the stored approximate kNN graph (${result.graph.method}); recall@10 measured against exact search on ${result.graph.recall_sample ?? '?'} sampled items`
      : '';
    this.nbrStatus.textContent =
      `${result.neighbors.length} by ${result.metric} ${distance ? 'distance (lower is closer)' : 'similarity'}` +
      (far ? ` · ${far} far away on the map` : '') +
      (result.graph && !result.graph.exact && result.graph['recall@10'] != null
        ? ` · approximate graph, recall@10 ${result.graph['recall@10'].toFixed(2)}` : '');
    this.nbrList.replaceChildren(
      ...result.neighbors.map((n, i) => {
        const rank = mapRanks[i];
        const isFar = rank !== undefined && rank > farRank;
        return h('li', { 'data-row': n.row, 'data-id': n.id, tabindex: 0, class: isFar ? 'far' : undefined },
          h('span', { class: 'dot', style: `background:${this.colorOf(n.row)}` }),
          h('span', { class: 'nbr-text', title: n.text ?? n.id }, thumbImg(n.id, n.has_image, 32, 'thumb-sm'), n.text ?? n.id),
          isFar ? h('span', { class: 'far-flag', title: `A true neighbour that the map places far away: ${rank.toLocaleString()} points are drawn closer to the item` }, 'far on map') : null,
          h('span', { class: 'score' }, formatNumber(n.score)));
      }),
    );
  }

  error(message: string): void {
    this.nbrStatus.textContent = message;
  }
}

function display(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') return formatNumber(v);
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}
