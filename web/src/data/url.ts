// View state in the URL hash (#space=..&layout=..&color=..&row=..&view=globe&labels=0&q=..&mode=keyword&sel=1,2
// &cam=x,y,d), so a view (with its selection and search) can be shared or reloaded.

export interface ViewState {
  space?: string;
  layout?: string;
  color?: string;
  row?: number;
  view?: 'map' | 'globe';
  /** Cluster labels on the map (default on; only ``labels=0`` is written). */
  labels?: boolean;
  /** The search query and its mode (semantic is the default, not written). */
  q?: string;
  mode?: 'semantic' | 'keyword';
  /** A lasso selection: rows, written as ``sel=3,17,42`` (at most ``MAX_SEL`` rows). */
  sel?: number[];
  /** The map camera: target x, target y, distance. */
  cam?: [number, number, number];
  /** A metadata filter (its JSON, see filter-spec.ts). */
  filter?: string;
}

/** Rows of a selection kept in the link; a bigger selection is left out of it (the CSV export has it). */
export const MAX_SEL = 5000;

/** The view state in ``window.location.hash``. */
export function readHash(): ViewState {
  return parseHash(window.location.hash);
}

/** Puts ``state`` in the URL hash (replacing the history entry, so Back leaves the page as before). */
export function writeHash(state: ViewState): void {
  const hash = formatHash(state);
  if (hash !== window.location.hash) history.replaceState(null, '', hash);
}

/** The view state in a hash such as ``#space=a&row=3`` (the leading ``#`` is optional); values that do not
 * parse are left out (undefined), never thrown. */
export function parseHash(hash: string): ViewState {
  const p = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash);
  const row = p.get('row');
  return {
    space: p.get('space') ?? undefined,
    layout: p.get('layout') ?? undefined,
    color: p.get('color') ?? undefined,
    row: row !== null && /^\d+$/.test(row) ? Number(row) : undefined,
    view: p.get('view') === 'globe' ? 'globe' : undefined,
    labels: p.get('labels') === '0' ? false : undefined,
    q: p.get('q') || undefined,
    mode: p.get('mode') === 'keyword' ? 'keyword' : undefined,
    sel: parseRows(p.get('sel')),
    cam: parseCamera(p.get('cam')),
    filter: p.get('filter') || undefined,
  };
}

function parseRows(v: string | null): number[] | undefined {
  if (!v || !/^\d+(,\d+)*$/.test(v)) return undefined;
  return v.split(',').slice(0, MAX_SEL).map(Number);
}

function parseCamera(v: string | null): [number, number, number] | undefined {
  const parts = (v ?? '').split(',').map(Number);
  return parts.length === 3 && parts.every(Number.isFinite) && parts[2] > 0 ? (parts as [number, number, number]) : undefined;
}

/** ``state`` as a hash (``#`` and the parameters): defaults (undefined, empty, true) are not written,
 * ``false`` is written as ``0``, a selection over ``MAX_SEL`` rows is left out, the camera is rounded to 6
 * significant digits. */
export function formatHash(state: ViewState): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(state)) {
    if (v === undefined || v === null || v === '' || v === true) continue;
    if (k === 'sel' && Array.isArray(v) && v.length > MAX_SEL) continue;
    if (k === 'cam' && Array.isArray(v)) p.set(k, v.map((x: number) => Number(x.toPrecision(6))).join(','));
    else p.set(k, v === false ? '0' : String(v));
  }
  return `#${p.toString()}`;
}
