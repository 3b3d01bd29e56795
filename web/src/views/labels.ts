// Cluster labels over the map: each cluster's keyword label at its centre (the median of its members'
// coordinates in the layout shown), following pan and zoom. DOM text with a dark halo; pointer-events: none so
// hovering and clicking go to the points underneath. At most MAX_LABELS labels, biggest clusters first,
// smaller type for smaller clusters; a label that would overlap a bigger cluster's label is left out until
// zooming in separates them.
import type { Cluster } from '../data/api';
import { h } from './dom';

/** Labels drawn at most (the biggest clusters). */
export const MAX_LABELS = 30;
const FONT_MIN = 11;
const FONT_MAX = 17;
/** Gap kept between two labels, in CSS pixels. */
const PAD = 3;

/** Maps normalised map coordinates to CSS pixels relative to the map canvas. */
export type Project = (x: number, y: number) => [number, number];

interface Placed {
  cluster: Cluster;
  el: HTMLElement;
  /** Centre in normalised map coordinates (NaN until computed). */
  cx: number;
  cy: number;
  w: number;
  h: number;
}

export class ClusterLabels {
  private readonly layer: HTMLElement;
  private placed: Placed[] = [];
  private enabled = true;
  private project: Project | null = null;
  private frame = 0;

  constructor(container: HTMLElement) {
    this.layer = h('div', { class: 'cluster-labels', id: 'cluster-labels', 'aria-hidden': 'true' });
    container.appendChild(this.layer);
  }

  /** The clusters of the space (biggest first) and each point's cluster id; null: none. */
  setClusters(clusters: Cluster[] | null): void {
    const top = (clusters ?? []).slice().sort((a, b) => b.size - a.size || a.id - b.id).slice(0, MAX_LABELS);
    const biggest = top.length ? top[0].size : 1;
    this.placed = top.map((cluster) => {
      const font = FONT_MIN + (FONT_MAX - FONT_MIN) * Math.sqrt(cluster.size / biggest);
      const el = h(
        'div',
        { class: 'cluster-label', 'data-cluster': cluster.id, title: cluster.keywords.join(', '), style: `font-size:${font.toFixed(1)}px` },
        cluster.label,
      );
      return { cluster, el, cx: Number.NaN, cy: Number.NaN, w: 0, h: 0 };
    });
    this.layer.replaceChildren(...this.placed.map((p) => p.el));
  }

  /** Recompute the centres for a layout (normalised coordinates in point order) and ``labels`` (cluster ids). */
  setLayout(x: Float32Array, y: Float32Array, labels: Int32Array | null, project: Project): void {
    this.project = project;
    const slot = new Map<number, number>(this.placed.map((p, i) => [p.cluster.id, i]));
    const centres = labels && labels.length === x.length ? medians(x, y, labels, slot) : null;
    this.placed.forEach((p, i) => {
      p.cx = centres ? centres[0][i] : Number.NaN;
      p.cy = centres ? centres[1][i] : Number.NaN;
    });
    this.update();
  }

  /** Show or hide every label (the header's "labels" toggle). */
  setEnabled(on: boolean): void {
    this.enabled = on;
    this.layer.hidden = !on;
    if (on) this.update();
  }

  get shown(): boolean {
    return this.enabled && !this.layer.hidden && this.placed.length > 0;
  }

  /** Reposition on the next frame (the map panned, zoomed or was resized). */
  schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.update();
    });
  }

  /** Place every label at its centre on screen, leaving out those off the map or overlapping a bigger one. */
  update(): void {
    if (!this.enabled || !this.project || this.placed.length === 0) return;
    const width = this.layer.clientWidth;
    const height = this.layer.clientHeight;
    const boxes: [number, number, number, number][] = [];
    for (const p of this.placed) {
      if (!Number.isFinite(p.cx) || !Number.isFinite(p.cy)) {
        hide(p.el);
        continue;
      }
      if (p.w === 0) {
        p.el.style.visibility = 'hidden';
        p.el.style.display = '';
        p.w = p.el.offsetWidth;
        p.h = p.el.offsetHeight;
      }
      const [sx, sy] = this.project(p.cx, p.cy);
      const box: [number, number, number, number] = [sx - p.w / 2, sy - p.h / 2, sx + p.w / 2, sy + p.h / 2];
      const off = sx < 0 || sy < 0 || sx > width || sy > height;
      if (off || boxes.some((b) => overlaps(b, box))) {
        hide(p.el);
        continue;
      }
      boxes.push(box);
      p.el.style.transform = `translate(${sx.toFixed(1)}px, ${sy.toFixed(1)}px) translate(-50%, -50%)`;
      p.el.style.visibility = '';
      p.el.style.display = '';
      p.el.dataset.shown = 'true';
    }
  }
}

function hide(el: HTMLElement): void {
  el.style.display = 'none';
  el.dataset.shown = 'false';
}

function overlaps(a: [number, number, number, number], b: [number, number, number, number]): boolean {
  return a[0] < b[2] + PAD && b[0] < a[2] + PAD && a[1] < b[3] + PAD && b[1] < a[3] + PAD;
}

/** Per-coordinate medians of the points of each cluster in ``slot`` (cluster id -> index), NaN when empty. */
export function medians(
  x: Float32Array,
  y: Float32Array,
  labels: Int32Array,
  slot: Map<number, number>,
): [Float64Array, Float64Array] {
  const k = slot.size;
  const counts = new Int32Array(k + 1);
  const which = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const s = slot.get(labels[i]);
    which[i] = s === undefined ? -1 : s;
    if (s !== undefined) counts[s + 1] += 1;
  }
  for (let s = 0; s < k; s++) counts[s + 1] += counts[s];
  const gx = new Float32Array(counts[k]);
  const gy = new Float32Array(counts[k]);
  const fill = counts.slice(0, k);
  for (let i = 0; i < labels.length; i++) {
    const s = which[i];
    if (s < 0) continue;
    gx[fill[s]] = x[i];
    gy[fill[s]] = y[i];
    fill[s] += 1;
  }
  const mx = new Float64Array(k).fill(Number.NaN);
  const my = new Float64Array(k).fill(Number.NaN);
  for (let s = 0; s < k; s++) {
    const [a, b] = [counts[s], counts[s + 1]];
    if (b > a) {
      mx[s] = median(gx.subarray(a, b));
      my[s] = median(gy.subarray(a, b));
    }
  }
  return [mx, my];
}

function median(values: Float32Array): number {
  values.sort();
  const n = values.length;
  return n % 2 ? values[(n - 1) / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}
