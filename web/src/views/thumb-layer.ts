// Thumbnails instead of dots at deep zoom: when few enough points are on screen (at most MAX_ON_SCREEN), each is
// drawn as its picture on a 2D canvas over the map (pointer-events: none, so hover and click reach the points).
// The pictures come in Arrow batches (data/thumbs.ts) and live in a texture atlas: one ATLAS_PX square canvas of
// CELL_PX cells (1,024 slots, 16 MB), reused least recently used first, so memory stays bounded however long one
// browses. Zoomed out again, the layer is cleared and the dots show.
import { type ThumbData, getThumbs, imagesOn } from '../data/thumbs';
import { SlotCache } from '../data/slots';
import type { MapView } from './map';

export const ATLAS_PX = 2048;
export const CELL_PX = 64;
/** Thumbnails are drawn when at most this many points are on screen. */
export const MAX_ON_SCREEN = 400;
/** Side of a drawn thumbnail, in CSS pixels. */
export const DRAWN_PX = 44;
const PER_ROW = ATLAS_PX / CELL_PX;

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

  constructor(
    private readonly container: HTMLElement,
    private readonly map: MapView,
    /** Which points pass the metadata filter (null: all). */
    private readonly keep: () => Uint8Array | null,
  ) {}

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
    for (let i = 0; i < x.length; i++) {
      if (keep && !keep[i]) continue;
      const [sx, sy] = project(x[i], y[i]);
      if (sx < -pad || sy < -pad || sx > w + pad || sy > h + pad) continue;
      rows.push(i);
      if (rows.length > MAX_ON_SCREEN) return null;
    }
    return rows;
  }

  private update(): void {
    if (!imagesOn() && !this.layer) return;
    const rows = imagesOn() && this.space ? this.onScreen() : null;
    const ctx = this.fit();
    if (!ctx) return;
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.drawn = 0;
    if (!rows || rows.length === 0) return;
    const missing = rows.filter((r) => !this.slots.has(r) && !this.none.has(r) && !this.pending.has(r));
    if (missing.length) void this.fetch(missing, new Set(rows));
    const project = this.map.projector();
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.lineWidth = 2;
    for (const row of rows) {
      const slot = this.slots.get(row);
      if (slot === undefined) continue;
      const [sx, sy] = project(this.map.coords[0][row], this.map.coords[1][row]);
      const [cw, ch] = this.cellSize(slot);
      const s = DRAWN_PX / Math.max(cw, ch);
      const [dw, dh] = [cw * s, ch * s];
      const [dx, dy] = [sx - dw / 2, sy - dh / 2];
      ctx.drawImage(this.atlas, (slot % PER_ROW) * CELL_PX, Math.floor(slot / PER_ROW) * CELL_PX, cw, ch, dx, dy, dw, dh);
      ctx.strokeStyle = this.map.baseColorOf(row) ?? '#888';
      ctx.strokeRect(dx - 1, dy - 1, dw + 2, dh + 2);
      this.drawn += 1;
    }
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
