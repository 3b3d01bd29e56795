// Palettes: Tableau 10/20 for categories (then golden-angle hues), viridis for numbers.

export type Rgb = [number, number, number];

export const TABLEAU10 = [
  '#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f',
  '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac',
];

export const TABLEAU20 = [
  '#4e79a7', '#a0cbe8', '#f28e2b', '#ffbe7d', '#59a14f', '#8cd17d', '#b6992d', '#f1ce63', '#499894', '#86bcb6',
  '#e15759', '#ff9d9a', '#79706e', '#bab0ac', '#d37295', '#fabfd2', '#b07aa1', '#d4a6c8', '#9d7660', '#d7b5a6',
];

/** The page and map background. */
export const BACKGROUND = '#0e1117';
/** Colour of points without a value (and of every point when nothing is chosen to colour by). */
export const MISSING = '#5c6370';
export const PLAIN = '#7aa2f7';
/** Selected point and its neighbours. */
export const ACTIVE = '#ffd166';
export const HOVER = '#ffffff';

/** ``n`` distinct colours: Tableau 10 up to 10, Tableau 20 up to 20, then evenly spread hues. */
export function categoricalPalette(n: number): string[] {
  if (n <= 10) return TABLEAU10.slice(0, n);
  if (n <= 20) return TABLEAU20.slice(0, n);
  const out = TABLEAU20.slice();
  for (let i = 20; i < n; i++) {
    const hue = (i * 137.508) % 360;
    const light = 55 + 12 * ((i % 3) - 1);
    out.push(hslToHex(hue, 0.55, light / 100));
  }
  return out;
}

// Viridis anchors (matplotlib), interpolated linearly.
const VIRIDIS_STOPS = [
  '#440154', '#482475', '#414487', '#355f8d', '#2a788e', '#21918c',
  '#22a884', '#44bf70', '#7ad151', '#bddf26', '#fde725',
];

/** ``n`` colours of the viridis ramp, dark purple to yellow. */
export function viridis(n: number): string[] {
  const stops = VIRIDIS_STOPS.map(hexToRgb);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const t = n === 1 ? 0 : (i / (n - 1)) * (stops.length - 1);
    const j = Math.min(Math.floor(t), stops.length - 2);
    const f = t - j;
    const a = stops[j];
    const b = stops[j + 1];
    out.push(rgbToHex([a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f]));
  }
  return out;
}

export const VIRIDIS_CSS = `linear-gradient(to right, ${VIRIDIS_STOPS.join(', ')})`;

export function hexToRgb(hex: string): Rgb {
  const h = hex.replace('#', '');
  return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)];
}

export function rgbToHex(rgb: Rgb): string {
  return `#${rgb.map((v) => Math.round(Math.max(0, Math.min(255, v))).toString(16).padStart(2, '0')).join('')}`;
}

/** ``fg`` drawn with opacity ``alpha`` over ``bg``. */
export function blend(fg: Rgb, bg: Rgb, alpha: number): Rgb {
  return [0, 1, 2].map((i) => Math.round(fg[i] * alpha + bg[i] * (1 - alpha))) as Rgb;
}

function hslToHex(h: number, s: number, l: number): string {
  const k = (n: number) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => l - a * Math.max(-1, Math.min(k(n) - 3, Math.min(9 - k(n), 1)));
  return rgbToHex([f(0) * 255, f(8) * 255, f(4) * 255]);
}
