// One vector drawn as a strip of its dimensions: a canvas of cells wrapped into rows (data/vectors.ts: stripGrid),
// coloured on a diverging scale around 0; the pointer's dimension and value in a line below it.
import { type StripGrid, dimAt, divergingColor, stripGrid } from '../data/vectors';
import { formatNumber, h } from './dom';

export class VectorStrip {
  readonly el: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly readout: HTMLElement;
  private grid: StripGrid = stripGrid(0, 1);
  private values: ArrayLike<number> = [];

  /** ``label``: what the strip shows (``A · king``); ``id``: the canvas' id (the browser tests find it). */
  constructor(label: string, id: string, private readonly note = '') {
    this.canvas = h('canvas', { class: 'vec-canvas', id, role: 'img' });
    this.readout = h('div', { class: 'vec-readout' }, note || '\u00a0');
    this.el = h('div', { class: 'vec-strip' }, h('div', { class: 'vec-label' }, label), this.canvas, this.readout);
    this.canvas.addEventListener('mousemove', (ev) => this.hover(ev.offsetX, ev.offsetY));
    this.canvas.addEventListener('mouseleave', () => (this.readout.textContent = this.note || '\u00a0'));
  }

  /** Draw ``values`` in ``width`` CSS pixels; full colour at ``|v| = scale``. */
  draw(values: ArrayLike<number>, scale: number, width: number): void {
    this.values = values;
    const grid = stripGrid(values.length, width);
    this.grid = grid;
    const dpr = window.devicePixelRatio || 1;
    const cssW = grid.cell * grid.cols;
    const cssH = grid.cellH * grid.rows;
    this.canvas.width = Math.max(1, Math.round(cssW * dpr));
    this.canvas.height = Math.max(1, Math.round(cssH * dpr));
    this.canvas.style.width = `${cssW}px`;
    this.canvas.style.height = `${cssH}px`;
    this.canvas.dataset.dims = String(values.length);
    this.canvas.dataset.cols = String(grid.cols);
    this.canvas.setAttribute('aria-label', `${values.length} dimensions in ${grid.rows} rows of ${grid.cols}`);
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const gap = grid.cell >= 6 ? 1 : 0;
    for (let i = 0; i < values.length; i++) {
      const [r, g, b] = divergingColor(values[i], scale);
      ctx.fillStyle = `rgb(${r},${g},${b})`;
      const x = (i % grid.cols) * grid.cell;
      const y = Math.floor(i / grid.cols) * grid.cellH;
      ctx.fillRect(x, y, grid.cell - gap, grid.cellH - 1);
    }
  }

  private hover(x: number, y: number): void {
    const dim = dimAt(this.grid, x, y);
    if (dim === null) return;
    this.readout.textContent = `dim ${dim}: ${formatNumber(this.values[dim])}`;
    this.readout.dataset.dim = String(dim);
  }
}

/** The colour key: blue below 0, orange above, with the value of full colour. */
export function scaleKey(scale: number): HTMLElement {
  return h('div', { class: 'vec-key' },
    h('span', { class: 'vec-key-bar' }),
    h('span', {}, `−${formatNumber(scale)} · 0 · +${formatNumber(scale)}`));
}
