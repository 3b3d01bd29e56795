// Generated from the server's OpenAPI schema by `python -m embedscope.server.schema web/src/data/schema.ts`.
// Do not edit: change the pydantic models in src/embedscope/server/routes/ and regenerate.

export interface AnalogyHit {
  row: number;
  id: string;
  score: number;
  text: string | null;
}

export interface AnalogyIn {
  plus: ItemRef[];
  minus?: ItemRef[];
  k?: number;
}

export interface AnalogyOut {
  plus: ItemBrief[];
  minus: ItemBrief[];
  results: AnalogyHit[];
}

/** Percentile calibration of the two similarity scales: at each percentile, the similarity in A and in B. */
export interface Calibration {
  percentiles: (number | null)[];
  a: (number | null)[];
  b: (number | null)[];
}

/** An item whose neighbours changed most, with both neighbour lists and its row in each space. */
export interface ChangedItem {
  id: string;
  jaccard: number | null;
  neighbors_a: string[];
  neighbors_b: string[];
  row_a: number;
  row_b: number;
}

/** One check as ``embedscope health --json`` prints it, plus its ``title``; the supporting figures of each check (``hubs``, ``dimensions``, ``pairs``, ...) follow as further fields. */
export interface CheckOut {
  name: string;
  title: string;
  value: JsonValue;
  verdict: string;
  threshold: JsonValue;
  ok: boolean;
}

/** One class: precision, recall, F1 of the out-of-fold predictions, and how many items hold it. */
export interface ClassFigures {
  label: string;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  support: number;
}

/** Out-of-fold accuracy and macro-F1 with bootstrap 95% intervals, per class, the confusion matrix (rows: true class, columns: predicted, in ``classes`` order); ``k`` for the k-NN probe. */
export interface Classifier {
  accuracy: number | null;
  accuracy_ci95: (number | null)[];
  macro_f1: number | null;
  macro_f1_ci95: (number | null)[];
  per_class: ClassFigures[];
  confusion: number[][];
  k?: number | null;
}

export interface CloserIn {
  a: ItemRef;
  b: ItemRef;
  c: ItemRef;
}

/** Under one metric: which of B and C is closer to A, their scores and ranks among all items seen from A. */
export interface CloserMetric {
  metric: string;
  higher_is_closer: boolean;
  closer: "b" | "c" | "tie";
  closer_id: string | null;
  score_b: number;
  score_c: number;
  rank_b: number;
  rank_c: number;
  n: number;
}

export interface CloserOut {
  a: ItemBrief;
  b: ItemBrief;
  c: ItemBrief;
  metrics: CloserMetric[];
}

export interface ClusterOut {
  id: number;
  size: number;
  keywords: string[];
  label: string;
}

/** A page of a space's clusters, biggest first (ties by id). */
export interface ClustersOut {
  params: Record<string, JsonValue>;
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
  result: CompareResult | null;
}

/** ``embedscope compare --json``, each "changed most" item with its rows. */
export interface CompareResult {
  spaces: string[];
  k: number;
  items: number;
  dims: number[];
  jaccard_mean: number | null;
  jaccard_median: number | null;
  jaccard_histogram: number[];
  chance_jaccard: number | null;
  cka: number | null;
  spearman: number | null;
  spearman_pairs: number;
  similarity: SimilarityScales;
  calibration: Calibration | null;
  retrieval: LabelRetrieval | null;
  qrels: QrelsRetrieval | null;
  changed_most: ChangedItem[];
  verdict: string;
}

/** ``result`` as ``embedscope compress --json`` prints it (``rows``, ``frontier``, ``dim``, ``items``, ``queries``, ``stale``), or ``null``. */
export interface CompressOut {
  space: string;
  result: CompressResult | null;
}

/** ``embedscope compress --json``, plus ``stale`` (the vectors changed since) and the recorded ``params``. */
export interface CompressResult {
  space: string;
  dim: number;
  items: number;
  queries: number;
  rows: CompressRow[];
  frontier: string[];
  stale: boolean;
  params: Record<string, JsonValue>;
}

/** One codec of the table. The codec's small parameters (``rescore``, ``dims``, ``explained_variance``, depending on the codec) follow as further fields. */
export interface CompressRow {
  codec: string;
  bytes_per_vector: number | null;
  scan_bytes?: number | null;
  "recall@1": number | null;
  "recall@10": number | null;
  "recall@100": number | null;
  query_ms: number | null;
  build_s: number | null;
}

/** One layer of the model: its space (``layer_N``) and how well the occurrences cluster there. */
export interface ContextLayerOut {
  layer: number;
  space: string;
  purity: number | null;
  silhouette: number | null;
  clusters: number;
}

/** The occurrences of ``word`` in a workspace's texts, one space a layer of the model. */
export interface ContextsOut {
  word: string;
  label: string | null;
  default_layer: number;
  occurrences: number | null;
  layers: ContextLayerOut[];
}

/** A histogram's ``counts`` over ``len(counts) + 1`` bin ``edges``, of ``n`` values. */
export interface CountsOut {
  counts: number[];
  edges: number[];
  n: number;
}

/** One method scored on the held-out pairs after fitting on ``n_train`` pairs (the learning curve). */
export interface CurvePoint {
  n_train: number;
  method: string;
  mean_cosine: number | null;
  gain_over_mean_baseline: number | null;
  top1: number | null;
  top10: number | null;
  mean_rank: number | null;
  "recall@10": number | null;
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
  has_image?: boolean;
}

export interface InfoOut {
  count: number;
  default_space: string | null;
  spaces: SpaceOut[];
  has_text: boolean;
  images?: boolean;
  images_version?: string | null;
  contexts?: ContextsOut | null;
}

export interface ItemBrief {
  row: number;
  id: string;
  text: string | null;
}

export interface ItemOut {
  row: number;
  id: string;
  text: string | null;
  metadata: Record<string, JsonValue>;
  has_image?: boolean;
}

/** An item, by its row in point order or by its id (exactly one of them). */
export interface ItemRef {
  row?: number | null;
  id?: string | null;
}

/** A page of a space's items in point order: ``items[i]`` is row ``offset + i``; texts cut to 300 characters. */
export interface ItemsPageOut {
  total: number;
  offset: number;
  items: ItemOut[];
}

export type JsonValue = unknown;

/** Same-label retrieval of both spaces (``--label``). */
export interface LabelRetrieval {
  metric: string;
  a: number | null;
  b: number | null;
  difference: number | null;
  ci95: (number | null)[];
  bootstrap: number;
  queries: number;
  rows: RetrievalRow[];
  column: string | null;
  note?: string | null;
}

/** Same- against different-label pairs of a categorical ``column``, and the ROC AUC between them. */
export interface LabelSeparationOut {
  column: string;
  auc: number | null;
  verdict: string;
  labels: number;
  items: number;
  exact: boolean;
  warning?: string | null;
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
  sampled?: number | null;
  stale: boolean;
  has_xyz: boolean;
  label: string;
  surface: "plane" | "sphere";
  rank: number;
}

/** A class with fewer items than folds, left out of the probe. */
export interface LeftOut {
  label: string;
  count: number;
}

/** An item the logistic regression got wrong, with its probability of the wrong class. */
export interface Mistake {
  row: number;
  id: string;
  text: string | null;
  label: string;
  predicted: string;
  confidence: number | null;
}

export interface NeighborOut {
  row: number;
  id: string;
  score: number;
  text: string | null;
  has_image?: boolean;
}

export interface NeighborsOut {
  row: number;
  id: string;
  metric: string;
  k: number;
  neighbors: NeighborOut[];
  graph?: GraphOut | null;
}

export interface NormsOut {
  a: number;
  b: number;
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

export interface PairIn {
  a: ItemRef;
  b: ItemRef;
  top?: number;
  metric?: "cosine" | "dot" | "euclidean" | "manhattan";
}

export interface PairOut {
  a: ItemBrief;
  b: ItemBrief;
  dims: number;
  cosine: number;
  dot: number;
  euclidean: number;
  manhattan: number;
  norms: NormsOut;
  top: ProductDim[];
  rank: PairRankOut;
}

/** The pair among all ``pairs`` pairs of distinct items: ``rank`` 1 = the closest pair of the space. Exact (``exact``): 1 + the pairs strictly closer, ``ties`` other pairs with the same score, ``low..high`` the ranks the ties share. Estimated: from ``sample`` pairs drawn with ``seed``; ``low..high`` a 95 % interval. */
export interface PairRankOut {
  metric: string;
  score: number;
  rank: number;
  pairs: number;
  exact: boolean;
  ties: number;
  closer_fraction: number;
  low: number;
  high: number;
  sample?: number | null;
  seed?: number | null;
}

/** ``embedscope probe --json``: the label, how many items were probed, each space's probe. */
export interface ProbeOut {
  label: string;
  items: number;
  held_out_of?: string | null;
  spaces: Record<string, SpaceProbe>;
}

/** One dimension of the element-wise product: ``product = a * b``. */
export interface ProductDim {
  dim: number;
  a: number;
  b: number;
  product: number;
}

/** Retrieval of both spaces on the judgements of a qrels file (``--qrels``). */
export interface QrelsRetrieval {
  file: string;
  queries: number;
  text_queries: number;
  judgements: number;
  rows: RetrievalRow[];
}

/** How a semantic query was embedded into the space. */
export interface QueryRoute {
  route: "model" | "translator";
  space: string;
  model: string;
  via?: string | null;
  method?: string | null;
  recall_at_10?: number | null;
  baseline_recall_at_10?: number | null;
  protocol?: string | null;
  n_test?: number | null;
}

/** One metric of a retrieval table: each space's mean, the best space, its margin over the runner-up. */
export interface RetrievalRow {
  metric: string;
  values: Record<string, number | null>;
  best: string;
  runner_up: string;
  difference: number | null;
  ci95: (number | null)[];
  winner: string | null;
}

/** Out-of-fold R² of ridge regression, with its bootstrap 95% interval. */
export interface Ridge {
  r2: number | null;
  r2_ci95: (number | null)[];
}

export interface SearchOut {
  query: string;
  mode: string;
  k: number;
  total: number;
  hits: Hit[];
  histogram: Histogram | null;
  cut: number | null;
  route?: QueryRoute | null;
}

/** Both spaces' cosine similarities of the same random pairs, as histograms on one shared range. */
export interface SimilarityScales {
  edges: (number | null)[];
  a: number[];
  b: number[];
  pairs: number;
  mean?: (number | null)[] | null;
  std?: (number | null)[] | null;
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
  tuned?: TunedOut | null;
}

/** The probe of one space: ``kind`` ``classes`` (``logreg``, ``knn``, ``classes``, ``base_rate``, ...) or ``numeric`` (``ridge``); ``control`` is the same probe on shuffled labels (the chance level measured). */
export interface SpaceProbe {
  kind: string;
  n: number;
  sample: number | null;
  folds: number;
  dims: number;
  seconds: number | null;
  control: number | null;
  classes?: string[] | null;
  left_out?: LeftOut[] | null;
  base_rate?: number | null;
  logreg?: Classifier | null;
  knn?: Classifier | null;
  misclassified?: Mistake[] | null;
  ridge?: Ridge | null;
}

/** Which thumbnails: by item id, or by rows (point order) of a space. */
export interface ThumbsIn {
  /** Item ids (at most 512). */
  ids?: string[] | null;
  /** With rows: the space whose point order they index. */
  space?: string | null;
  /** Rows of space (at most 512). */
  rows?: number[] | null;
}

/** ``result`` as ``embedscope translate eval --json`` prints it (plus ``stale``), or ``null``. */
export interface TranslateOut {
  source: string;
  target: string;
  result: TranslateResult | null;
}

/** ``embedscope translate eval --json``, plus ``stale`` (either space changed since). */
export interface TranslateResult {
  from: string;
  to: string;
  pairs: number;
  warning: string | null;
  methods: TranslateScore[];
  n_train: number;
  n_test: number;
  protocol: string;
  folds: number | null;
  dims: number[];
  best: string | null;
  best_linear: string | null;
  seed: number;
  curve: CurvePoint[];
  stale: boolean;
}

/** One method's held-out scores (a fitted map or a baseline). */
export interface TranslateScore {
  method: string;
  mean_cosine: number | null;
  mean_baseline_cosine: number | null;
  gain_over_mean_baseline: number | null;
  top1: number | null;
  top10: number | null;
  mean_rank: number | null;
  median_rank: number | null;
  mean_cosine_se: number | null;
  baseline: boolean;
  gain_over_best_linear: number | null;
  fit_s: number | null;
  params: Record<string, JsonValue>;
  "recall@10": number | null;
}

/** A space fine-tuned from ``base`` on ``n_train`` items, ``n_held_out`` items kept out of training. */
export interface TunedOut {
  base: string;
  n_train: number;
  n_held_out: number;
  by?: string | null;
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
  | "GET /api/probe"
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
  | "GET /api/spaces/{space}/split"
  | "GET /api/spaces/{space}/vectors/lookup"
  | "GET /api/spaces/{space}/vectors/{row}"
  | "GET /api/thumbs"
  | "GET /api/thumbs/{item_id}"
  | "GET /api/translate"
  | "POST /api/compare"
  | "POST /api/spaces/{space}/compress"
  | "POST /api/spaces/{space}/selection.csv"
  | "POST /api/spaces/{space}/vectors/analogy"
  | "POST /api/spaces/{space}/vectors/closer"
  | "POST /api/spaces/{space}/vectors/pair"
  | "POST /api/thumbs"
  | "POST /api/translate";
