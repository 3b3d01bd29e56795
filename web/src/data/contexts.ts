// A contexts workspace (``embedscope contexts WS --word W``): one space a layer of the model over the word's
// occurrences. No DOM: which layer a space is, the figures shown beside each layer, the word's span in an
// occurrence's sentence, and the rotation that keeps one layer's map turned like the previous one.
import type { Info } from './api';

export type Contexts = NonNullable<Info['contexts']>;
export type ContextLayer = Contexts['layers'][number];

/** Colour-by value of the senses: the default layer's clusters, drawn on every layer's map. */
export const SENSE = '@sense';

/** The layer whose space is ``space``, or null. */
export function layerOf(ctx: Contexts, space: string | null | undefined): ContextLayer | null {
  return ctx.layers.find((l) => l.space === space) ?? null;
}

/** The layer shown first (the default layer; the last one when the record names none that is stored). */
export function defaultLayer(ctx: Contexts): ContextLayer {
  return ctx.layers.find((l) => l.layer === ctx.default_layer) ?? ctx.layers[ctx.layers.length - 1];
}

/** The layer ``delta`` steps from ``space``'s (clamped to the first and last). */
export function stepLayer(ctx: Contexts, space: string | null, delta: number): ContextLayer {
  const at = ctx.layers.findIndex((l) => l.space === space);
  const from = at < 0 ? ctx.layers.indexOf(defaultLayer(ctx)) : at;
  return ctx.layers[Math.max(0, Math.min(ctx.layers.length - 1, from + delta))];
}

/** ``0.93``; ``—`` when not measured. */
export function figure(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(2);
}

/** The figure shown under a layer's button: its cluster purity against the label when there is one, else the
 * silhouette of its clusters. */
export function layerFigure(layer: ContextLayer, label: string | null): { name: string; value: string } {
  return label !== null && layer.purity !== null
    ? { name: 'purity', value: figure(layer.purity) }
    : { name: 'silhouette', value: figure(layer.silhouette) };
}

/** The line about the shown layer: ``Layer 6 · purity 0.97 · silhouette 0.41 · 2 clusters``. */
export function layerSummary(layer: ContextLayer, label: string | null): string {
  const parts = [`Layer ${layer.layer}`];
  if (label !== null) parts.push(`purity ${figure(layer.purity)} vs ${label}`);
  parts.push(`silhouette ${figure(layer.silhouette)}`, `${layer.clusters} cluster${layer.clusters === 1 ? '' : 's'}`);
  return parts.join(' · ');
}

/** ``Contexts of “bank” · 48 occurrences`` (``count``: the map's points, the word alone one of them). */
export function contextsTitle(ctx: Contexts, count: number): string {
  const n = ctx.occurrences ?? Math.max(0, count - 1);
  return `Contexts of “${ctx.word}” · ${n.toLocaleString('en')} occurrence${n === 1 ? '' : 's'}`;
}

/** A sentence cut around the word: the text before it, the word, the text after. */
export interface WordSpan {
  before: string;
  word: string;
  after: string;
}

/** The word's span in ``text`` from the item's ``word_start`` and ``word_end`` (char offsets), or null when the
 * item has none or they do not fit the text. */
export function wordSpan(text: string | null, metadata: Record<string, unknown>): WordSpan | null {
  const start = metadata.word_start;
  const end = metadata.word_end;
  if (text === null || typeof start !== 'number' || typeof end !== 'number') return null;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end <= start || end > text.length) return null;
  return { before: text.slice(0, start), word: text.slice(start, end), after: text.slice(end) };
}

/** ``span`` cut to about ``max`` characters around the word (which is always kept), with ``…`` where cut. */
export function around(span: WordSpan, max: number): WordSpan {
  const room = Math.max(0, max - span.word.length);
  if (span.before.length + span.after.length <= room) return span;
  let left = Math.min(span.before.length, Math.ceil(room / 2));
  const right = Math.min(span.after.length, room - left);
  left = Math.min(span.before.length, room - right);
  const before = left < span.before.length ? `…${span.before.slice(span.before.length - left)}` : span.before;
  const after = right < span.after.length ? `${span.after.slice(0, right)}…` : span.after;
  return { before, word: span.word, after };
}

/** ``(x, y)`` turned (and mirrored, when that fits better) about its centre to match ``(refX, refY)`` best in
 * the least-squares sense (orthogonal Procrustes in 2-D); the same points in the same order. Two UMAP maps of
 * the same items come out in arbitrary orientations: turned like the map shown before, the points of a sense
 * stay roughly where they were as the user steps from layer to layer. Unchanged when the sizes differ. */
export function alignTo(refX: ArrayLike<number>, refY: ArrayLike<number>, x: Float32Array, y: Float32Array): [Float32Array, Float32Array] {
  const n = x.length;
  if (n < 3 || refX.length !== n || refY.length !== n || y.length !== n) return [x, y];
  const mean = (v: ArrayLike<number>) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += v[i];
    return s / n;
  };
  const [rx, ry, cx, cy] = [mean(refX), mean(refY), mean(x), mean(y)];
  // cross-covariance terms of the centred clouds
  let sxx = 0;
  let sxy = 0;
  let syx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const [ax, ay, bx, by] = [x[i] - cx, y[i] - cy, refX[i] - rx, refY[i] - ry];
    sxx += ax * bx;
    sxy += ax * by;
    syx += ay * bx;
    syy += ay * by;
  }
  // best rotation of (x, y), and of the mirror image (x, -y): the larger correlation wins
  const rot = { cos: sxx + syy, sin: sxy - syx };
  const mir = { cos: sxx - syy, sin: sxy + syx };
  const mirror = Math.hypot(mir.cos, mir.sin) > Math.hypot(rot.cos, rot.sin);
  const { cos, sin } = mirror ? mir : rot;
  const norm = Math.hypot(cos, sin);
  if (norm === 0) return [x, y];
  const [c, s] = [cos / norm, sin / norm];
  const ox = new Float32Array(n);
  const oy = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const ax = x[i] - cx;
    const ay = mirror ? -(y[i] - cy) : y[i] - cy;
    ox[i] = c * ax - s * ay;
    oy[i] = s * ax + c * ay;
  }
  return [ox, oy];
}
