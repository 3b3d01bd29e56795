// View state in the URL hash (#space=..&layout=..&color=..&row=..&view=globe&labels=0), so a view can be shared
// or reloaded.

export interface ViewState {
  space?: string;
  layout?: string;
  color?: string;
  row?: number;
  view?: 'map' | 'globe';
  /** Cluster labels on the map (default on; only ``labels=0`` is written). */
  labels?: boolean;
}

export function readHash(): ViewState {
  const p = new URLSearchParams(window.location.hash.slice(1));
  const row = p.get('row');
  return {
    space: p.get('space') ?? undefined,
    layout: p.get('layout') ?? undefined,
    color: p.get('color') ?? undefined,
    row: row !== null && /^\d+$/.test(row) ? Number(row) : undefined,
    view: p.get('view') === 'globe' ? 'globe' : undefined,
    labels: p.get('labels') === '0' ? false : undefined,
  };
}

export function writeHash(state: ViewState): void {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(state)) {
    if (v === undefined || v === null || v === '' || v === true) continue;
    p.set(k, v === false ? '0' : String(v));
  }
  const hash = `#${p.toString()}`;
  if (hash !== window.location.hash) history.replaceState(null, '', hash);
}
