// Typed client of the embedscope server: the JSON shapes come from its OpenAPI schema (schema.ts, generated from
// the routes' pydantic models by `python -m embedscope.server.schema`). JSON for metadata, Arrow IPC for
// per-point arrays.
import { tableFromIPC } from 'apache-arrow';
import type * as schema from './schema';

/** A stored layout and its honesty at ``k`` neighbours (null: not measured). */
export type LayoutInfo = schema.LayoutOut;

export type SpaceInfo = schema.SpaceOut;

/** One cluster of a space: its id (as in the labels), member count and keyword label. */
export type Cluster = schema.ClusterOut;

/** A page of a space's clusters, biggest first. */
export type Clusters = schema.ClustersOut;

export type Info = schema.InfoOut;

export type ColumnKind = 'categorical' | 'numeric' | 'text';

export type ColumnMeta = schema.ColumnOut;

export type Item = schema.ItemOut;

export type Neighbor = schema.NeighborOut;

export type Neighbors = schema.NeighborsOut;

export const METRICS = ['cosine', 'dot', 'euclidean', 'manhattan'] as const;
export type Metric = (typeof METRICS)[number];

/** A 2D layout: coordinates in point order. */
export interface Layout {
  x: Float32Array;
  y: Float32Array;
}

/** Per-item honesty of a layout, point order, NaN where not measured. */
export interface Honesty {
  trustworthiness: Float32Array;
  continuity: Float32Array;
  knn_recall: Float32Array;
}

/** A column decoded for colouring: categorical codes (-1 = missing) or numeric values (NaN = missing). */
export type ColumnData =
  | { kind: 'categorical'; name: string; codes: Int32Array; categories: string[] }
  | { kind: 'numeric'; name: string; values: Float32Array };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const enc = encodeURIComponent;

async function request(path: string): Promise<Response> {
  const response = await fetch(path, { credentials: 'same-origin' });
  if (!response.ok) {
    let detail = response.statusText;
    try {
      const body = await response.json();
      detail = typeof body.detail === 'string' ? body.detail : JSON.stringify(body.detail);
    } catch {
      /* not JSON */
    }
    throw new ApiError(response.status, detail);
  }
  return response;
}

async function json<T>(path: string): Promise<T> {
  return (await request(path)).json() as Promise<T>;
}

async function arrow(path: string) {
  const bytes = new Uint8Array(await (await request(path)).arrayBuffer());
  return tableFromIPC(bytes);
}

export const getInfo = () => json<Info>('api/info');

export const getColumns = (space: string) => json<ColumnMeta[]>(`api/spaces/${enc(space)}/columns`);

export const getItem = (space: string, row: number) => json<Item>(`api/spaces/${enc(space)}/items/${row}`);

/** ``&filter=...`` for a metadata filter (JSON, see embedscope.filters), or nothing. */
const withFilter = (filter?: string | null) => (filter ? `&filter=${enc(filter)}` : '');

export const getNeighbors = (space: string, row: number, k: number, metric: Metric, filter?: string | null) =>
  json<Neighbors>(`api/spaces/${enc(space)}/items/${row}/neighbors?k=${k}&metric=${enc(metric)}${withFilter(filter)}`);

/** Which points pass a metadata filter (1 = kept), point order. */
export async function getFilter(space: string, filter: string): Promise<Uint8Array> {
  const table = await arrow(`api/spaces/${enc(space)}/filter?filter=${enc(filter)}`);
  const keep = table.getChild('keep')?.toArray();
  return keep instanceof Uint8Array ? keep : Uint8Array.from((keep ?? []) as ArrayLike<number>);
}

export async function getLayout(space: string, method: string): Promise<Layout> {
  const table = await arrow(`api/spaces/${enc(space)}/layouts/${enc(method)}`);
  return { x: floats(table.getChild('x')), y: floats(table.getChild('y')) };
}

/** A layout's points in the order of the map's spatial index (KDBush, node size 16), computed on the server. */
export async function getKdOrder(space: string, method: string): Promise<Uint32Array> {
  const table = await arrow(`api/spaces/${enc(space)}/layouts/${enc(method)}/kdorder`);
  const rows = table.getChild('row')?.toArray();
  if (!(rows instanceof Uint32Array)) throw new ApiError(500, 'the spatial index order is not uint32 rows');
  return rows;
}

/** 3-D coordinates of a layout, interleaved ``x0, y0, z0, x1, ...`` (sphere: unit vectors, z = north). */
export async function getXyz(space: string, method: string): Promise<Float32Array> {
  const table = await arrow(`api/spaces/${enc(space)}/layouts/${enc(method)}/xyz`);
  const [x, y, z] = ['x', 'y', 'z'].map((c) => floats(table.getChild(c)));
  const out = new Float32Array(x.length * 3);
  for (let i = 0; i < x.length; i++) {
    out[3 * i] = x[i];
    out[3 * i + 1] = y[i];
    out[3 * i + 2] = z[i];
  }
  return out;
}

export async function getHonesty(space: string, method: string): Promise<Honesty> {
  const table = await arrow(`api/spaces/${enc(space)}/layouts/${enc(method)}/honesty`);
  return {
    trustworthiness: floats(table.getChild('trustworthiness')),
    continuity: floats(table.getChild('continuity')),
    knn_recall: floats(table.getChild('knn_recall')),
  };
}

/** The clusters of a space, biggest first (up to 10,000: the server's page limit). */
export const getClusters = (space: string) => json<Clusters>(`api/spaces/${enc(space)}/clusters?limit=10000`);

/** Each point's cluster id in point order (-1: unclustered). */
export async function getClusterLabels(space: string, version: string): Promise<Int32Array> {
  const table = await arrow(`api/spaces/${enc(space)}/clusters/labels?v=${enc(version)}`);
  const vector = table.getChild('cluster');
  if (!vector) throw new ApiError(500, 'the cluster labels are missing their column');
  const arr = vector.toArray();
  return arr instanceof Int32Array ? arr : Int32Array.from(arr as ArrayLike<number>);
}

export async function getColumn(space: string, meta: ColumnMeta): Promise<ColumnData> {
  const table = await arrow(`api/spaces/${enc(space)}/columns/${enc(meta.name)}`);
  const vector = table.getChildAt(0);
  if (!vector) throw new ApiError(500, `column ${meta.name} is empty`);
  if (meta.kind === 'categorical') {
    const n = vector.length;
    const codes = new Int32Array(n);
    let categories: string[] = [];
    let offset = 0;
    for (const chunk of vector.data) {
      const keys = chunk.values as ArrayLike<number>;
      if (chunk.dictionary) categories = Array.from(chunk.dictionary, (v) => String(v));
      for (let i = 0; i < chunk.length; i++) {
        codes[offset + i] = isValid(chunk.nullBitmap, chunk.offset + i) ? Number(keys[i]) : -1;
      }
      offset += chunk.length;
    }
    return { kind: 'categorical', name: meta.name, codes, categories };
  }
  const values = new Float32Array(vector.length);
  let offset = 0;
  for (const chunk of vector.data) {
    const raw = chunk.values as Float32Array;
    for (let i = 0; i < chunk.length; i++) {
      values[offset + i] = isValid(chunk.nullBitmap, chunk.offset + i) ? raw[i] : Number.NaN;
    }
    offset += chunk.length;
  }
  return { kind: 'numeric', name: meta.name, values };
}

function isValid(bitmap: Uint8Array | undefined, i: number): boolean {
  return !bitmap || bitmap.length === 0 || (bitmap[i >> 3] & (1 << (i & 7))) !== 0;
}

function floats(vector: { toArray(): unknown } | null): Float32Array {
  if (!vector) throw new ApiError(500, 'a per-point array is missing a column');
  const arr = vector.toArray();
  return arr instanceof Float32Array ? arr : Float32Array.from(arr as ArrayLike<number>);
}

/** One codec of a space's compression table (``embedscope compress``). */
export interface CompressRow {
  codec: string;
  /** Everything a search needs per vector (binary+rescore keeps the float32 vectors too). */
  bytes_per_vector: number;
  /** What the search reads for every item (absent in tables of earlier versions). */
  scan_bytes?: number | null;
  'recall@1': number;
  'recall@10': number;
  'recall@100': number;
  query_ms: number;
  build_s: number;
}

export interface CompressResult {
  space: string;
  dim: number;
  items: number;
  queries: number;
  rows: CompressRow[];
  frontier: string[];
  stale: boolean;
}

/** The stored compression table of a space, or ``null`` when it was never measured. */
export const getCompress = async (space: string) =>
  (await json<{ result: CompressResult | null }>(`api/spaces/${enc(space)}/compress`)).result;

/** Measure the compression table now (can take a minute on large spaces) and return it. */
export async function measureCompress(space: string): Promise<CompressResult> {
  const response = await fetch(`api/spaces/${enc(space)}/compress`, { method: 'POST', credentials: 'same-origin' });
  const body = await response.json();
  if (!response.ok) throw new ApiError(response.status, typeof body.detail === 'string' ? body.detail : 'failed');
  return body.result as CompressResult;
}

export type SearchMode = 'semantic' | 'keyword';

export type SearchHit = schema.Hit;

export type SearchResult = Omit<schema.SearchOut, 'mode'> & { mode: SearchMode };

/** The k best hits for a query (semantic: embedded with the space's model on the server). */
export const search = (space: string, q: string, mode: SearchMode, k: number, filter?: string | null) =>
  json<SearchResult>(`api/spaces/${enc(space)}/search?q=${enc(q)}&mode=${mode}&k=${k}${withFilter(filter)}`);

/** Every point's score for a query, in point order (cosine similarity, or 1/0 for a keyword match). */
export async function searchScores(space: string, q: string, mode: SearchMode): Promise<Float32Array> {
  const table = await arrow(`api/spaces/${enc(space)}/search/scores?q=${enc(q)}&mode=${mode}`);
  return floats(table.getChild('score'));
}

/** One method's held-out scores in a translate evaluation (``embedscope translate eval``). */
export interface TranslateScore {
  method: string;
  mean_cosine: number;
  mean_baseline_cosine: number;
  gain_over_mean_baseline: number;
  top1: number;
  top10: number;
  median_rank: number;
  'recall@10': number;
  baseline: boolean;
}

export interface TranslateResult {
  from: string;
  to: string;
  pairs: number;
  warning: string | null;
  protocol: string;
  n_train: number;
  n_test: number;
  dims: [number, number];
  best: string | null;
  methods: TranslateScore[];
  curve: { n_train: number; method: string; top1: number; mean_cosine: number }[];
  stale: boolean;
}

const translateUrl = (a: string, b: string) => `api/translate?from=${enc(a)}&to=${enc(b)}`;

/** The stored evaluation of translators from space ``a`` to ``b``, or null. */
export const getTranslate = async (a: string, b: string) =>
  (await json<{ result: TranslateResult | null }>(translateUrl(a, b))).result;

/** Fit and evaluate every default translator now (seconds to minutes) and return it. */
export async function measureTranslate(a: string, b: string): Promise<TranslateResult> {
  const response = await fetch(translateUrl(a, b), { method: 'POST', credentials: 'same-origin' });
  const body = await response.json();
  if (!response.ok) throw new ApiError(response.status, typeof body.detail === 'string' ? body.detail : 'failed');
  return body.result as TranslateResult;
}

/** Each dimension's mean, spread (std), min and max, in dimension order. */
export interface DimensionStats {
  mean: Float32Array;
  std: Float32Array;
  min: Float32Array;
  max: Float32Array;
}

export async function getDimensions(space: string): Promise<DimensionStats> {
  const table = await arrow(`api/spaces/${enc(space)}/health/dimensions`);
  return {
    mean: floats(table.getChild('mean')),
    std: floats(table.getChild('std')),
    min: floats(table.getChild('min')),
    max: floats(table.getChild('max')),
  };
}

/** One row of a retrieval table: each space's mean, the best space, its margin and whether it is a real win. */
export interface RetrievalRow {
  metric: string;
  values: Record<string, number>;
  best: string;
  runner_up: string;
  difference: number;
  ci95: [number, number];
  /** null: a tie (the 95% interval of the margin holds 0). */
  winner: string | null;
}

export interface ChangedItem {
  id: string;
  jaccard: number;
  neighbors_a: string[];
  neighbors_b: string[];
  /** The item's row in each space (added by the server for the compare view). */
  row_a: number;
  row_b: number;
}

/** ``embedscope compare --json`` of two spaces (see src/embedscope/_scope_compare.py). */
export interface CompareResult {
  spaces: [string, string];
  k: number;
  items: number;
  dims: [number, number];
  jaccard_mean: number;
  jaccard_median: number;
  chance_jaccard: number;
  cka: number;
  spearman: number;
  spearman_pairs: number;
  similarity: { edges: number[]; a: number[]; b: number[]; pairs: number; mean?: [number, number] };
  calibration: { percentiles: number[]; a: number[]; b: number[] } | null;
  retrieval: { column: string; queries: number; rows: RetrievalRow[] } | null;
  qrels: { file: string; queries: number; rows: RetrievalRow[] } | null;
  changed_most: ChangedItem[];
  verdict: string;
}

/** Per point of one side, in its point order: neighbour agreement (NaN: not compared) and the other row. */
export interface ComparePoints {
  jaccard: Float32Array;
  other: Int32Array;
}

const compareUrl = (a: string, b: string) => `api/compare?a=${enc(a)}&b=${enc(b)}`;

/** The stored comparison of spaces ``a`` and ``b``, or null. */
export const getCompare = async (a: string, b: string) =>
  (await json<{ result: CompareResult | null }>(compareUrl(a, b))).result;

/** Compare two spaces now (seconds; minutes on large spaces) and return it. */
export async function measureCompare(a: string, b: string, k: number, label: string | null): Promise<CompareResult> {
  const url = compareUrl(a, b) + `&k=${k}` + (label ? `&label=${enc(label)}` : '');
  const response = await fetch(url, { method: 'POST', credentials: 'same-origin' });
  const body = await response.json();
  if (!response.ok) throw new ApiError(response.status, typeof body.detail === 'string' ? body.detail : 'failed');
  return body.result as CompareResult;
}

export async function getComparePoints(a: string, b: string, side: 'a' | 'b'): Promise<ComparePoints> {
  const table = await arrow(`api/compare/points?a=${enc(a)}&b=${enc(b)}&side=${side}`);
  const other = table.getChild('other')?.toArray();
  return {
    jaccard: floats(table.getChild('jaccard')),
    other: other instanceof Int32Array ? other : Int32Array.from((other ?? []) as ArrayLike<number>),
  };
}

/** A tuned space's split, a part a point in its point order: 0 train, 1 held-out, 2 not in the split. */
export async function getSplit(space: string): Promise<Uint8Array> {
  const part = (await arrow(`api/spaces/${enc(space)}/split`)).getChild('part')?.toArray();
  return part instanceof Uint8Array ? part : Uint8Array.from((part ?? []) as ArrayLike<number>);
}

/** What ``spaces`` know of the column ``label`` (``embedscope probe``), on the held-out items of ``heldOutOf``
 * (a tuned space) when given. Seconds; cached by the server. */
export const getProbe = (label: string, spaces: string[], heldOutOf: string | null) =>
  json<schema.ProbeOut>(
    `api/probe?label=${enc(label)}&spaces=${spaces.map(enc).join(',')}` + (heldOutOf ? `&held_out_of=${enc(heldOutOf)}` : ''),
  );

/** The given rows (point order) of a space as a CSV file: id, text, metadata, and the layout's x/y. */
export async function selectionCsv(space: string, layout: string | null, rows: ArrayLike<number>): Promise<Blob> {
  const url = `api/spaces/${enc(space)}/selection.csv` + (layout ? `?layout=${enc(layout)}` : '');
  const response = await fetch(url, {
    method: 'POST',
    body: Uint32Array.from(rows),
    headers: { 'Content-Type': 'application/octet-stream' },
    credentials: 'same-origin',
  });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new ApiError(response.status, typeof body.detail === 'string' ? body.detail : response.statusText);
  }
  return response.blob();
}

/** An item named by its row (point order) or its id. */
export type ItemRef = { row: number } | { id: string };

export type ItemBrief = schema.ItemBrief;
export type PairResult = schema.PairOut;
export type CloserResult = schema.CloserOut;
export type AnalogyResult = schema.AnalogyOut;

async function post<T>(path: string, body: unknown): Promise<T> {
  const response = await fetch(path, {
    method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  const out = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = typeof out.detail === 'string' ? out.detail
      : Array.isArray(out.detail) ? out.detail.map((d: { msg?: string }) => d.msg ?? '').join('; ') : response.statusText;
    throw new ApiError(response.status, detail);
  }
  return out as T;
}

const vectorsUrl = (space: string) => `api/spaces/${enc(space)}/vectors`;

/** The item's vector (float32, one value a dimension), sent as Arrow. */
export async function getVector(space: string, row: number): Promise<Float32Array> {
  return floats((await arrow(`${vectorsUrl(space)}/${row}`)).getChild('value'));
}

/** Items whose id (first) or text holds ``q``: the pickers' suggestions. */
export const lookupItems = (space: string, q: string, k = 10) =>
  json<ItemBrief[]>(`${vectorsUrl(space)}/lookup?q=${enc(q)}&k=${k}`);

/** Two items side by side: every score, both norms, the largest product dimensions, the pair's rank. */
export const getPair = (space: string, a: ItemRef, b: ItemRef, top = 8) =>
  post<PairResult>(`${vectorsUrl(space)}/pair`, { a, b, top });

/** Which of B and C is closer to A under each metric. */
export const getCloser = (space: string, a: ItemRef, b: ItemRef, c: ItemRef) =>
  post<CloserResult>(`${vectorsUrl(space)}/closer`, { a, b, c });

/** The nearest items to sum(plus) - sum(minus) of unit vectors, the inputs left out. */
export const getAnalogy = (space: string, plus: ItemRef[], minus: ItemRef[], k = 10) =>
  post<AnalogyResult>(`${vectorsUrl(space)}/analogy`, { plus, minus, k });
