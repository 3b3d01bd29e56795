// Generated from the server's OpenAPI schema by `python -m embedscope.server.schema web/src/data/schema.ts`.
// Do not edit: change the pydantic models in src/embedscope/server/routes/ and regenerate.

/** One check as ``embedscope health --json`` prints it, plus its ``title``; the supporting figures of each check (``hubs``, ``dimensions``, ``pairs``, ...) follow as further fields. */
export interface CheckOut {
  name: string;
  title: string;
  value: JsonValue;
  verdict: string;
  threshold: JsonValue;
  ok: boolean;
}

export interface ClusterOut {
  id: number;
  size: number;
  keywords: string[];
  label: string;
}

/** A page of a space's clusters, biggest first (ties by id). */
export interface ClustersOut {
  params: Record<string, unknown>;
  unclustered: number;
  total: number;
  offset: number;
  stale: boolean;
  version: string;
  clusters: ClusterOut[];
}

export interface ColumnOut {
  name: string;
  kind: "categorical" | "numeric" | "text";
  n_unique: number;
}

/** ``result`` as ``embedscope compare --json`` prints it, or ``null`` when never computed (or stale). */
export interface CompareOut {
  a: string;
  b: string;
  result: Record<string, unknown> | null;
}

/** ``result`` as ``embedscope compress --json`` prints it (``rows``, ``frontier``, ``dim``, ``items``, ``queries``, ``stale``), or ``null``. */
export interface CompressOut {
  space: string;
  result: Record<string, unknown> | null;
}

/** A histogram's ``counts`` over ``len(counts) + 1`` bin ``edges``, of ``n`` values. */
export interface CountsOut {
  counts: number[];
  edges: number[];
  n: number;
}

/** What every 4xx (but 422, FastAPI's own shape) and the rare 500 carry: one line saying what went wrong. */
export interface ErrorOut {
  detail: string;
}

/** How the stored kNN graph that answered was made; approximate graphs carry their measured recall@10. */
export interface GraphOut {
  exact: boolean;
  method: string;
  k: number;
  /** Against exact search, on sampled items. */
  "recall@10"?: number | null;
  recall_sample?: number | null;
}

export interface HTTPValidationError {
  detail?: ValidationError[];
}

/** ``checks`` as ``embedscope health --json`` prints them (each with its ``title``), the pair-similarity ``histogram``, and ``labels`` (``null`` without a categorical column). */
export interface HealthOut {
  space: string;
  items: number;
  checks: CheckOut[];
  histogram: PairHistogramOut;
  labels: LabelSeparationOut | null;
}

export interface Histogram {
  edges: number[];
  counts: number[];
}

export interface Hit {
  row: number;
  id: string;
  score: number;
  text: string | null;
}

export interface InfoOut {
  count: number;
  default_space: string | null;
  spaces: SpaceOut[];
  has_text: boolean;
}

export interface ItemOut {
  row: number;
  id: string;
  text: string | null;
  metadata: Record<string, unknown>;
}

/** A page of a space's items in point order: ``items[i]`` is row ``offset + i``; texts cut to 300 characters. */
export interface ItemsPageOut {
  total: number;
  offset: number;
  items: ItemOut[];
}

export type JsonValue = unknown;

/** Same- against different-label pairs of a categorical ``column``, and the ROC AUC between them. */
export interface LabelSeparationOut {
  column: string;
  auc: number | null;
  verdict: string;
  labels: number;
  items: number;
  exact: boolean;
  same: CountsOut;
  different: CountsOut;
}

/** A stored layout and how honest it is (``embedscope quality``): ``null`` figures were not measured. ``label``, ``surface`` and ``rank`` are the method's traits: its name in menus, ``plane`` or ``sphere`` (a globe: coordinates are longitude and latitude), and the default choice (the lowest rank among plane layouts; layouts are listed in the workspace's order). */
export interface LayoutOut {
  method: string;
  k: number | null;
  trustworthiness: number | null;
  continuity: number | null;
  knn_recall: number | null;
  stale: boolean;
  has_xyz: boolean;
  label: string;
  surface: "plane" | "sphere";
  rank: number;
}

export interface NeighborOut {
  row: number;
  id: string;
  score: number;
  text: string | null;
}

export interface NeighborsOut {
  row: number;
  id: string;
  metric: string;
  k: number;
  neighbors: NeighborOut[];
  graph?: GraphOut | null;
}

/** The pair similarities: all pairs (``exact``) or a seeded sample of ``population`` pairs. */
export interface PairHistogramOut {
  counts: number[];
  edges: number[];
  n: number;
  kind: string;
  metric: string;
  exact: boolean;
  population: number;
  seed: number | null;
  stats: Record<string, number | null>;
}

export interface SearchOut {
  query: string;
  mode: string;
  k: number;
  total: number;
  hits: Hit[];
  histogram: Histogram | null;
  cut: number | null;
}

export interface SpaceOut {
  name: string;
  kind: string;
  model: string | null;
  dim: number;
  count: number;
  layouts: LayoutOut[];
  stale: boolean;
  has_clusters: boolean;
}

/** ``result`` as ``embedscope translate eval --json`` prints it (plus ``stale``), or ``null``. */
export interface TranslateOut {
  source: string;
  target: string;
  result: Record<string, unknown> | null;
}

export interface ValidationError {
  loc: (string | number)[];
  msg: string;
  type: string;
  input?: unknown;
  ctx?: Record<string, unknown>;
}

/** Every route of the server, as "METHOD /path". */
export type Route =
  | "GET /api/compare"
  | "GET /api/compare/points"
  | "GET /api/info"
  | "GET /api/spaces/{space}/clusters"
  | "GET /api/spaces/{space}/clusters/labels"
  | "GET /api/spaces/{space}/columns"
  | "GET /api/spaces/{space}/columns/{name}"
  | "GET /api/spaces/{space}/compress"
  | "GET /api/spaces/{space}/filter"
  | "GET /api/spaces/{space}/health"
  | "GET /api/spaces/{space}/health/dimensions"
  | "GET /api/spaces/{space}/items"
  | "GET /api/spaces/{space}/items/{row}"
  | "GET /api/spaces/{space}/items/{row}/neighbors"
  | "GET /api/spaces/{space}/layouts/{method}"
  | "GET /api/spaces/{space}/layouts/{method}/honesty"
  | "GET /api/spaces/{space}/layouts/{method}/kdorder"
  | "GET /api/spaces/{space}/layouts/{method}/xyz"
  | "GET /api/spaces/{space}/search"
  | "GET /api/spaces/{space}/search/scores"
  | "GET /api/translate"
  | "POST /api/compare"
  | "POST /api/spaces/{space}/compress"
  | "POST /api/spaces/{space}/selection.csv"
  | "POST /api/translate";
