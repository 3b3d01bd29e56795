// The contexts view (a workspace made by ``embedscope contexts WS --word W``): the title line, the layer control
// (a button a layer with its purity, or silhouette, as a figure and a fill; ‹ › and the arrow keys step) that
// switches the map to that layer's space, and the word alone ("W (alone)") ringed on the map.
//
// Switching: the last layer asked for wins (clicks while a layer loads are not queued one by one), and the
// control shows a layer as current only once its map is drawn. Each layer's map is turned like the one shown
// before it (data/contexts.ts ``alignTo``), so a sense's points stay roughly where they were.
import './contexts.css';
import { type ColumnMeta, type Layout, getColumn } from '../data/api';
import type { ClusterData } from '../data/coloring';
import {
  type ContextLayer,
  type Contexts,
  SENSE,
  alignTo,
  contextsTitle,
  defaultLayer,
  layerFigure,
  layerOf,
  layerSummary,
  stepLayer,
} from '../data/contexts';
import { h } from './dom';
import type { MapView } from './map';

export interface ContextsHost {
  /** Show ``space`` (a layer's space) with the current colouring and selection; resolves once drawn. */
  openLayer(space: string): Promise<void>;
  /** A space's stored clusters (memoised by the explorer). */
  clustersOf(space: string): Promise<ClusterData | null>;
}

export class ContextsView {
  ctx: Contexts | null = null;
  /** The default layer's clusters: the senses, coloured alike on every layer. */
  senses: { data: ClusterData; title: string } | null = null;
  private readonly bar: HTMLElement;
  private readonly title: HTMLElement;
  private readonly buttons: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly prev: HTMLButtonElement;
  private readonly next: HTMLButtonElement;
  private readonly mark: HTMLElement;
  /** The layer space drawn on the map (null: none yet, or another space). */
  private shown: string | null = null;
  /** The layer space last asked for, and the switch under way. */
  private target: string | null = null;
  private switching: Promise<void> | null = null;
  private staticRow: number | null = null;
  private frame = 0;

  constructor(stage: HTMLElement, mapEl: HTMLElement, private readonly map: MapView, private readonly host: ContextsHost) {
    this.title = h('div', { class: 'contexts-title', id: 'contexts-title' });
    this.buttons = h('div', { class: 'layer-buttons', id: 'layer-buttons', role: 'group', 'aria-label': 'Layer' });
    this.prev = h('button', { class: 'layer-step', id: 'layer-prev', type: 'button', 'aria-label': 'Previous layer', title: 'Previous layer (←)' }, '‹');
    this.next = h('button', { class: 'layer-step', id: 'layer-next', type: 'button', 'aria-label': 'Next layer', title: 'Next layer (→)' }, '›');
    this.summary = h('div', { class: 'layer-summary', id: 'layer-summary', 'aria-live': 'polite' });
    this.bar = h('section', { class: 'contexts', id: 'contexts', hidden: true, 'aria-label': 'Contexts' },
      this.title,
      h('div', { class: 'layer-control' }, h('div', { class: 'layer-axis', id: 'layer-axis' }), this.prev, this.buttons, this.next),
      this.summary);
    stage.appendChild(this.bar);
    this.mark = h('div', { class: 'static-mark', id: 'static-mark', hidden: true, 'aria-hidden': 'true' },
      h('span', { class: 'static-ring' }), h('span', { class: 'static-label' }));
    mapEl.appendChild(this.mark);
    this.buttons.addEventListener('click', (ev) => {
      const button = (ev.target as HTMLElement).closest('button[data-space]') as HTMLElement | null;
      if (button?.dataset.space) void this.request(button.dataset.space);
    });
    this.prev.addEventListener('click', () => this.step(-1));
    this.next.addEventListener('click', () => this.step(1));
    this.bar.addEventListener('keydown', (ev) => {
      if (ev.key !== 'ArrowLeft' && ev.key !== 'ArrowRight') return;
      ev.preventDefault();
      this.step(ev.key === 'ArrowLeft' ? -1 : 1);
    });
    map.onView(() => this.schedule());
  }

  /** Whether the workspace is a contexts workspace. */
  get active(): boolean {
    return this.ctx !== null;
  }

  /** Take ``/api/info``'s ``contexts``; returns the default layer's space (null: not a contexts workspace). */
  setInfo(ctx: Contexts | null | undefined): string | null {
    this.ctx = ctx && ctx.layers.length ? ctx : null;
    this.bar.hidden = this.ctx === null;
    if (!this.ctx) return null;
    const label = this.ctx.label;
    const name = layerFigure(this.ctx.layers[0], label).name;
    document.getElementById('layer-axis')?.replaceChildren(h('span', {}, 'layer'), h('span', {}, name));
    this.buttons.replaceChildren(...this.ctx.layers.map((l) => this.button(l, label)));
    this.title.textContent = contextsTitle(this.ctx, 0);
    return defaultLayer(this.ctx).space;
  }

  private button(layer: ContextLayer, label: string | null): HTMLElement {
    const fig = layerFigure(layer, label);
    const v = fig.value === '—' ? 0 : Math.max(0, Math.min(1, Number(fig.value)));
    return h('button', {
      class: 'layer-button', type: 'button', 'data-layer': layer.layer, 'data-space': layer.space,
      'aria-pressed': 'false', 'aria-label': `Layer ${layer.layer}, ${fig.name} ${fig.value}`,
      title: layerSummary(layer, label), style: `--v:${v.toFixed(3)}`,
    }, h('span', { class: 'layer-n' }, String(layer.layer)), h('span', { class: 'layer-fig', 'data-figure': fig.name }, fig.value));
  }

  /** The colouring when the URL does not say: the label column (the known senses the purity is measured
   * against) when the workspace has one, else the senses (the default layer's clusters); null elsewhere. */
  defaultColor(columns: ColumnMeta[]): string | null {
    if (!this.ctx) return null;
    const label = this.ctx.label;
    if (label !== null && columns.some((c) => c.name === label && c.kind === 'categorical')) return label;
    return this.senses ? SENSE : null;
  }

  /** Load the senses (the default layer's clusters) once, before the first colouring. */
  async loadSenses(): Promise<void> {
    if (!this.ctx || this.senses) return;
    const layer = defaultLayer(this.ctx);
    const data = await this.host.clustersOf(layer.space);
    this.senses = data ? { data, title: `senses (layer ${layer.layer} clusters)` } : null;
  }

  /** ``layout`` of ``space`` turned like the map drawn now, when both are layers of the same items. */
  align(space: string, layout: Layout): Layout {
    if (!this.ctx || this.shown === null || this.shown === space || !layerOf(this.ctx, space)) return layout;
    const [px, py] = this.map.coords;
    if (px.length !== layout.x.length) return layout;
    const [x, y] = alignTo(px, py, layout.x, layout.y);
    return { x, y };
  }

  /** ``space`` is drawn on the map: mark its layer as current, say its figures, ring the word alone. */
  showing(space: string): void {
    if (!this.ctx) return;
    const layer = layerOf(this.ctx, space);
    this.shown = layer ? space : null;
    this.title.textContent = contextsTitle(this.ctx, this.map.count);
    for (const b of this.buttons.querySelectorAll<HTMLElement>('button[data-space]')) {
      b.setAttribute('aria-pressed', String(b.dataset.space === space));
      if (b.dataset.space === this.target && this.target !== space) b.dataset.pending = '';
      else delete b.dataset.pending;
    }
    const at = this.ctx.layers.findIndex((l) => l.space === space);
    this.prev.disabled = at <= 0;
    this.next.disabled = at < 0 || at >= this.ctx.layers.length - 1;
    if (this.target === null || this.target === space) {
      this.summary.textContent = layer ? layerSummary(layer, this.ctx.label) : `${space} is not a layer of “${this.ctx.word}”`;
      this.bar.removeAttribute('aria-busy');
    }
  }

  /** Find the word alone among ``space``'s items (its ``kind`` is ``static``) and ring it. */
  async findStatic(space: string, columns: ColumnMeta[]): Promise<void> {
    this.staticRow = null;
    this.place();
    const kind = columns.find((c) => c.name === 'kind' && c.kind === 'categorical');
    if (!this.ctx || !kind) return;
    const data = await getColumn(space, kind);
    if (data.kind !== 'categorical' || this.shown !== space) return;
    const code = data.categories.indexOf('static');
    const row = code < 0 ? -1 : data.codes.indexOf(code);
    this.staticRow = row < 0 || row >= this.map.count ? null : row;
    (this.mark.lastElementChild as HTMLElement).textContent = `${this.ctx.word} (alone)`;
    this.mark.dataset.row = this.staticRow === null ? '' : String(this.staticRow);
    this.place();
  }

  private schedule(): void {
    if (this.frame || this.staticRow === null) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.place();
    });
  }

  /** Put the ring on the word alone's point (hidden when it is off the map). */
  private place(): void {
    const row = this.staticRow;
    if (row === null) {
      this.mark.hidden = true;
      return;
    }
    const [x, y] = this.map.coords;
    const [sx, sy] = this.map.toScreen(x[row], y[row]);
    const canvas = this.map.element;
    this.mark.hidden = !(sx >= 0 && sy >= 0 && sx <= canvas.clientWidth && sy <= canvas.clientHeight);
    this.mark.style.transform = `translate(${sx.toFixed(1)}px, ${sy.toFixed(1)}px)`;
    const label = this.mark.lastElementChild as HTMLElement;
    this.mark.classList.toggle('flip', sx + 14 + label.offsetWidth > canvas.clientWidth - 4);
  }

  private step(delta: number): void {
    if (!this.ctx) return;
    void this.request(stepLayer(this.ctx, this.target ?? this.shown, delta).space);
  }

  /** Show ``space``'s layer; while a switch is under way only the last layer asked for is opened next. */
  request(space: string): Promise<void> {
    if (!this.ctx || !layerOf(this.ctx, space)) return Promise.resolve();
    this.target = space;
    for (const b of this.buttons.querySelectorAll<HTMLElement>('button[data-space]')) {
      if (b.dataset.space === space && space !== this.shown) b.dataset.pending = '';
      else delete b.dataset.pending;
    }
    if (space !== this.shown) {
      this.bar.setAttribute('aria-busy', 'true');
      this.summary.textContent = `Loading layer ${layerOf(this.ctx, space)?.layer}…`;
    }
    if (this.switching) return this.switching;
    if (space === this.shown) return Promise.resolve();
    this.switching = (async () => {
      try {
        while (this.target !== null && this.target !== this.shown) {
          const want = this.target;
          await this.host.openLayer(want);
          if (this.shown !== want) break; // it failed (the status line says why): do not retry forever
        }
      } finally {
        this.switching = null;
        this.target = null;
        this.bar.removeAttribute('aria-busy');
        if (this.shown) this.showing(this.shown);
      }
    })();
    return this.switching;
  }
}
