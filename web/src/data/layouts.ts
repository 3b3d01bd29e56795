// Which stored layout the page shows where: the globe's sphere and the map's default. The one place the page
// reads what kind of layout a method is (the map, the globe and the compare view all ask here).
import type { LayoutInfo } from './api';

/** The method asked for when a space has no stored layout (the server's 404 then says how to make one). */
export const NO_LAYOUT = 'umap';

/** Whether ``layout`` lies on a sphere (the globe shows it) rather than on a plane. */
export const onSphere = (layout: LayoutInfo): boolean => layout.surface === 'sphere';

/** How much ``layout`` is wanted as the default map: lowest first, ties in the server's order. */
const preference = (layout: LayoutInfo): number => (onSphere(layout) ? Infinity : layout.rank);

/** The method the globe shows (the first sphere layout), or null when there is none. */
export function globeLayout(layouts: readonly LayoutInfo[]): string | null {
  return layouts.find(onSphere)?.method ?? null;
}

/** The method shown when none is asked for (the most preferred layout), or null when there is none. */
export function defaultLayout(layouts: readonly LayoutInfo[]): string | null {
  let best: LayoutInfo | null = null;
  for (const layout of layouts) if (best === null || preference(layout) < preference(best)) best = layout;
  return best?.method ?? null;
}
