// Tiny DOM helpers (no framework).

export function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

type Attrs = Record<string, string | number | boolean | undefined>;

/** ``h('div', {class: 'x'}, 'text', child)``: an element with attributes and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined) el.append(child);
  return el;
}

export function fillSelect(select: HTMLSelectElement, options: { value: string; label: string }[], value?: string) {
  select.replaceChildren(...options.map((o) => h('option', { value: o.value }, o.label)));
  if (value !== undefined) select.value = value;
  select.disabled = options.length <= 1;
}

export const formatNumber = (v: number) =>
  Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : String(Number(v.toPrecision(4)));

const COMPACT = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 });

/** A count short enough for an axis: 950, 19.1K, 2.5M (an exponent like "1.91e+4" did not fit and was cut). */
export const formatCount = (v: number) => (Math.abs(v) < 1e4 ? String(Math.round(v)) : COMPACT.format(v));

const SVG_NS = 'http://www.w3.org/2000/svg';

/** ``svgEl('rect', {x: 1})``: an SVG element with attributes and optional text (for the charts of the sheets). */
export function svgEl<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
  text?: string,
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Resolves after ``n`` animation frames. */
export const frames = (n: number) =>
  new Promise<void>((resolve) => {
    const tick = (left: number) => (left <= 0 ? resolve() : requestAnimationFrame(() => tick(left - 1)));
    tick(n);
  });

/** Positions for labels wanted at ``ys`` (in any order), moved apart to at least ``gap`` and kept inside
 * [``lo``, ``hi``] where there is room; returned in the order of ``ys`` (curve labels that overlapped and fell
 * off the top of the chart). */
export function spreadLabels(ys: readonly number[], gap: number, lo: number, hi: number): number[] {
  const order = ys.map((y, i) => ({ y, i })).sort((a, b) => a.y - b.y);
  const placed = order.map((o) => o.y);
  for (let k = 0; k < placed.length; k++) placed[k] = Math.max(placed[k], lo, k ? placed[k - 1] + gap : -Infinity);
  for (let k = placed.length - 1; k >= 0; k--) placed[k] = Math.min(placed[k], hi, k < placed.length - 1 ? placed[k + 1] - gap : Infinity);
  const out = new Array<number>(ys.length);
  order.forEach((o, k) => (out[o.i] = placed[k]));
  return out;
}
