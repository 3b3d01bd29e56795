// window.__embedscope: a read-back hook for browser tests (and curious users in the console).
import type { Rgb } from './data/colors';
import type { CompareHook } from './views/compare';

export interface TestHook {
  /** True once the first map is drawn and after every later redraw settles. */
  ready: boolean;
  count: number;
  space: string | null;
  layout: string | null;
  colorBy: string | null;
  /** Row of the item in the side panel, or null. */
  selected: number | null;
  /** Rows of the highlighted neighbours of ``selected``. */
  neighbors: number[];
  /** Rows chosen together with the lasso (empty when none). */
  readonly selection: number[];
  /** The map camera: target x, target y, distance. */
  readonly camera: [number, number, number];
  /** Thumbnails drawn instead of dots in the last frame of the map (0: dots; deep zoom of a workspace with images). */
  readonly thumbsDrawn: number;
  /** The selected item's picture in the last frame of the picture layer: its row and half its drawn side in CSS
   * pixels, border included (null: not drawn). */
  readonly thumbsFocus: { row: number; half: number } | null;
  /** The metadata filter (its JSON) and how many points pass it, or null. */
  readonly filter: { json: string; count: number } | null;
  /** Those of ``neighbors`` that the map places far away (more than max(50, 5k) points drawn closer). */
  readonly farNeighbors: number[];
  /** What is shown: the flat map or the globe (the sphere layout on a ball). */
  view: 'map' | 'globe';
  /** The current layout's honesty figures at k (trustworthiness, kNN recall), or null. */
  honesty: { k: number; trustworthiness: number | null; knn_recall: number | null } | null;
  /** Clusters of the current space (0: none stored). */
  clusters: number;
  /** Cluster labels are drawn on the map (the header's "labels" toggle is on and the space has clusters). */
  labels: boolean;
  /** The current search: query, mode, the rows of the hits best first, and how many items match/were scored. */
  search: { query: string; mode: string; rows: number[]; total: number } | null;
  /** CSS pixels of a point relative to the map canvas' top-left corner. */
  pointToScreen(row: number): [number, number] | null;
  /** CSS pixels of a point relative to the globe canvas' top-left corner; null on the far side. */
  globePointToScreen(row: number): [number, number] | null;
  /** Turn the globe by degrees of longitude and latitude (resolves once drawn). */
  rotateGlobe(dLon: number, dLat: number): Promise<void>;
  /** The RGB a point is drawn with (the same on the map and the near side of the globe). */
  colorOf(row: number): Rgb | null;
  /** Hover a point in the current view. */
  hover(row: number): void;
  select(row: number): Promise<void>;
  deselect(): Promise<void>;
  /** When the page reached each step of its last load, in ms since navigation (``performance.now()``):
   * ``info``, ``layout`` (coordinates received), ``colors`` (colour column received and encoded), ``drawn``
   * (the first frame with every point is on the canvas), ``ready`` (the map's spatial index is filled, so hover,
   * click and lasso find points, and two frames have passed). For benchmarks. */
  timings: Record<string, number>;
  /** The compare view, once opened. */
  compare?: CompareHook;
}

declare global {
  interface Window {
    __embedscope: TestHook;
  }
}

export function installHook(hook: TestHook): TestHook {
  window.__embedscope = hook;
  return hook;
}
