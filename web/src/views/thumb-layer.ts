// Thumbnails instead of dots at deep zoom: when few enough points are on screen (at most MAX_ON_SCREEN), each is
// drawn as its picture on a 2D canvas over the map (pointer-events: none, so hover and click reach the points).
// The pictures come in Arrow batches (data/thumbs.ts) and live in a texture atlas: one ATLAS_PX square canvas of
// CELL_PX cells (1,024 slots, 16 MB), reused least recently used first, so memory stays bounded however long one
// browses. Zoomed out again (or when the pictures would crowd the span of the points: data/tile-plan.ts
// picturesFit), the layer is cleared and the dots show. While an item is selected, the other pictures are dimmed,
// lines join it to its neighbours above them, and its picture (bigger) and its neighbours' are drawn on top with a
// border of the selection's colour; the hovered point's picture is drawn last, bigger, with a white border.
import { ACTIVE, HOVER } from '../data/colors';
import { type ThumbData, getThumbs, imagesOn } from '../data/thumbs';
import { MARK_SCALE, type TileMark, picturesFit, tilePlan } from '../data/tile-plan';
import { SlotCache } from '../data/slots';
import type { MapView } from './map';

export const ATLAS_PX = 2048;
export const CELL_PX = 64;
/** Thumbnails are drawn when at most this many points are on screen. */
export const MAX_ON_SCREEN = 400;
/** Side of a drawn thumbnail, in CSS pixels. */
export const DRAWN_PX = 44;
/** The first view of a workspace with images: a little farther than the map's default (distance 1, the points
 * reaching 95% of the height), so pictures at the edges are not cut by the header. */
export const PICTURE_CAMERA: [number, number, number] = [0, 0, 1.06];
const PER_ROW = ATLAS_PX / CELL_PX;
/** Opacity of the pictures outside the selection while something is selected. */
const DIMMED_ALPHA = 0.3;
/** Border of a picture by its mark: width in CSS pixels and colour (null: the point's own colour). */
const BORDER: Record<TileMark, [number, string | null]> = {
  plain: [2, null], dim: [2, null], chosen: [3, ACTIVE], focus: [4, ACTIVE], hover: [3, HOVER],
};
/** Lines from the selected item to its neighbours (the map's own lines are under the pictures). */
const LINK = 'rgba(255, 209, 102, 0.8)';

export class ThumbLayer {
  private layer: HTMLCanvasElement | null = null;
  private store: HTMLCanvasElement | null = null;
  private readonly slots = new SlotCache(PER_ROW * PER_ROW);
  /** Rows asked for that have no picture, and rows on the way. */
  private readonly none = new Set<number>();
  private readonly pending = new Set<number>();
  /** Bumped when the space or layout changes: answers of older requests are dropped. */
  private generation = 0;
  private space = '';
  private frame = 0;
  /** Thumbnails drawn in the last frame (0: dots). */
  drawn = 0;
  /** The selected item's picture in the last frame: its row and half its side in CSS pixels (null: not drawn). */
  focus: { row: number; half: number } | null = null;

  constructor(
    private readonly container: HTMLElement,
    private readonly map: MapView,
    /** Which points pass the metadata filter (null: all). */
    private readonly keep: () => Uint8Array | null,
  ) {
    map.onMarks(() => this.schedule());
  }

  /** The overlay, put over the map on first need (a workspace without images gets none). */
  private get canvas(): HTMLCanvasElement {
    if (!this.layer) {
      this.layer = document.createElement('canvas');
      this.layer.className = 'thumb-layer';
      this.layer.id = 'thumb-layer';
      this.container.appendChild(this.layer);
    }
    return this.layer;
  }

  /** The texture atlas (ATLAS_PX square), made on first need. */
  private get atlas(): HTMLCanvasElement {
    if (!this.store) {
      this.store = document.createElement('canvas');
      this.store.width = ATLAS_PX;
      this.store.height = ATLAS_PX;
    }
    return this.store;
  }

  /** A new space or layout: forget what the atlas holds (rows index another point order). */
  reset(space: string): void {
    this.generation += 1;
    this.space = space;
    this.slots.clear();
    this.none.clear();
    this.pending.clear();
    this.schedule();
  }

  /** Redraw on the next frame (the view moved, colours or the filter changed). */
  schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.update();
    });
  }

  /** The points on screen (passing the filter), or null when there are more than MAX_ON_SCREEN. */
  private onScreen(): number[] | null {
    const [x, y] = this.map.coords;
    const w = this.canvas.clientWidth;
    const h = this.canvas.clientHeight;
    if (!x.length || !w || !h) return null;
    const project = this.map.projector();
    const keep = this.keep();
    const pad = DRAWN_PX / 2;
    const rows: number[] = [];
    let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
    for (let i = 0; i < x.length; i++) {
      if (keep && !keep[i]) continue;
      const [sx, sy] = project(x[i], y[i]);
      if (sx < -pad || sy < -pad || sx > w + pad || sy > h + pad) continue;
      rows.push(i);
      if (rows.length > MAX_ON_SCREEN) return null;
      [x0, y0, x1, y1] = [Math.min(x0, sx), Math.min(y0, sy), Math.max(x1, sx), Math.max(y1, sy)];
    }
    return picturesFit(rows.length, x1 - x0, y1 - y0, DRAWN_PX) ? rows : null;
  }

  private update(): void {
    if (!imagesOn() && !this.layer) return;
    const rows = imagesOn() && this.space ? this.onScreen() : null;
    const ctx = this.fit();
    if (!ctx) return;
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.drawn = 0;
    this.focus = null;
    if (!rows || rows.length === 0) return;
    const missing = rows.filter((r) => !this.slots.has(r) && !this.none.has(r) && !this.pending.has(r));
    if (missing.length) void this.fetch(missing, new Set(rows));
    const project = this.map.projector();
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const marks = this.map.marks;
    const plan = tilePlan(rows, marks);
    const at = (row: number) => project(this.map.coords[0][row], this.map.coords[1][row]);
    let linked = false;
    for (const { row, mark } of plan) {
      if (!linked && mark !== 'plain' && mark !== 'dim') {
        this.drawLinks(ctx, at, marks.focus, marks.chosen);
        linked = true;
      }
      const slot = this.slots.get(row);
      if (slot === undefined) continue;
      const [sx, sy] = at(row);
      const [cw, ch] = this.cellSize(slot);
      const s = (DRAWN_PX * MARK_SCALE[mark]) / Math.max(cw, ch);
      const [dw, dh] = [cw * s, ch * s];
      const [dx, dy] = [sx - dw / 2, sy - dh / 2];
      const [width, colour] = BORDER[mark];
      ctx.globalAlpha = mark === 'dim' ? DIMMED_ALPHA : 1;
      ctx.drawImage(this.atlas, (slot % PER_ROW) * CELL_PX, Math.floor(slot / PER_ROW) * CELL_PX, cw, ch, dx, dy, dw, dh);
      ctx.lineWidth = width;
      ctx.strokeStyle = colour ?? this.map.baseColorOf(row) ?? '#888';
      ctx.strokeRect(dx - width / 2, dy - width / 2, dw + width, dh + width);
      if (mark === 'focus') this.focus = { row, half: Math.max(dw, dh) / 2 + width };
      this.drawn += 1;
    }
    if (!linked) this.drawLinks(ctx, at, marks.focus, marks.chosen);
    ctx.globalAlpha = 1;
  }

  /** Lines from ``focus`` to each of ``neighbors`` (also those off screen), above the dimmed pictures. */
  private drawLinks(ctx: CanvasRenderingContext2D, at: (row: number) => [number, number], focus: number | null,
    neighbors: readonly number[]): void {
    if (focus === null || neighbors.length === 0) return;
    const [fx, fy] = at(focus);
    ctx.globalAlpha = 1;
    ctx.strokeStyle = LINK;
    ctx.lineWidth = 2;
    ctx.beginPath();
    for (const r of neighbors) {
      const [nx, ny] = at(r);
      ctx.moveTo(fx, fy);
      ctx.lineTo(nx, ny);
    }
    ctx.stroke();
  }

  /** Width and height of the picture in a cell (kept per slot when it is filled). */
  private readonly sizes = new Map<number, [number, number]>();

  private cellSize(slot: number): [number, number] {
    return this.sizes.get(slot) ?? [CELL_PX, CELL_PX];
  }

  /** Fetch the pictures of ``rows``, put them in atlas cells (not evicting ``onScreen``), and redraw. */
  private async fetch(rows: number[], onScreen: Set<number>): Promise<void> {
    const generation = this.generation;
    for (const r of rows) this.pending.add(r);
    let got: ThumbData[] = [];
    try {
      got = await getThumbs(this.space, rows);
    } catch {
      /* the dots stay; a later view change asks again */
    }
    if (generation !== this.generation) return;
    const found = new Set(got.map((t) => t.row));
    for (const r of rows) {
      this.pending.delete(r);
      if (!found.has(r)) this.none.add(r);
    }
    const ctx = this.atlas.getContext('2d');
    if (!ctx) return;
    await Promise.all(got.map(async (t) => {
      try {
        const bitmap = await createImageBitmap(new Blob([t.bytes as BlobPart], { type: 'image/webp' }));
        if (generation !== this.generation) return;
        const slot = this.slots.put(t.row, onScreen);
        const s = CELL_PX / Math.max(bitmap.width, bitmap.height, 1);
        const [cw, ch] = [Math.max(1, Math.round(bitmap.width * s)), Math.max(1, Math.round(bitmap.height * s))];
        const [ax, ay] = [(slot % PER_ROW) * CELL_PX, Math.floor(slot / PER_ROW) * CELL_PX];
        ctx.clearRect(ax, ay, CELL_PX, CELL_PX);
        ctx.drawImage(bitmap, ax, ay, cw, ch);
        this.sizes.set(slot, [cw, ch]);
        bitmap.close();
      } catch {
        this.none.add(t.row);
      }
    }));
    this.schedule();
  }

  /** The overlay's 2D context with its backing store matching the map's size in device pixels. */
  private fit(): CanvasRenderingContext2D | null {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.round(this.canvas.clientWidth * dpr);
    const h = Math.round(this.canvas.clientHeight * dpr);
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    const ctx = this.canvas.getContext('2d');
    ctx?.setTransform(1, 0, 0, 1, 0, 0);
    return ctx;
  }
}
