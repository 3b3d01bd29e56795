// What the map can be coloured by (the header's colour menu) and the encoding of each choice: a metadata column,
// the space's stored clusters, the current layout's honesty, or the current search's scores.
import {
  type Clusters,
  type ColumnMeta,
  type Honesty,
  type LayoutInfo,
  type SearchResult,
  ApiError,
  getClusterLabels,
  getClusters,
  getColumn,
  getHonesty,
} from './api';
import {
  type Encoding,
  HONESTY_LABELS,
  type HonestyKind,
  encode,
  encodeClusters,
  encodeHonesty,
  encodeScores,
  plainEncoding,
} from './encoding';
import { SENSE } from './contexts';
import { Memo, message } from './promises';

/** Colour-by value of no colouring. */
export const NONE = '';
/** Colour-by values of the per-item honesty of the current layout (``@honesty/knn_recall`` ...). */
export const HONESTY = '@honesty/';
export const HONESTY_KINDS: HonestyKind[] = ['knn_recall', 'trustworthiness', 'continuity'];
/** Colour-by value of the space's stored clusters (not a metadata column, so no name clash). */
export const CLUSTER = '@cluster';
/** Colour-by value of the current search's scores. */
export const QUERY = '@query';
/** Columns worth colouring by first, when the URL does not say. */
const PREFERRED = /^(label|labels|category|categories|class|topic|cluster|group|genre|type|source|lang|language)$/i;

/** A space's stored clustering: the clusters (biggest first) and each point's cluster id. */
export interface ClusterData {
  meta: Clusters;
  labels: Int32Array;
}

/** A search and every point's score. */
export interface Scored {
  result: SearchResult;
  scores: Float32Array;
}

/** What the colour choices of the current view depend on. */
export interface Scene {
  /** The current space ('' when none). */
  space: string;
  /** The current layout's method and record (null when none). */
  layout: string | null;
  layoutInfo: LayoutInfo | null;
  /** The space's metadata columns (not text columns). */
  columns: ColumnMeta[];
  clusters: ClusterData | null;
  /** The current search of this space, or null. */
  query: Scored | null;
  /** A contexts workspace's senses (its default layer's clusters, the same rows on every layer), or null. */
  senses?: { data: ClusterData; title: string } | null;
}

/** Whether ``info`` carries honesty figures (measured at some k). */
export function hasHonesty(info: LayoutInfo | null | undefined): boolean {
  return !!info && info.k !== null && (info.knn_recall !== null || info.trustworthiness !== null);
}

/** The colour choices: none, metadata columns, clusters, this layout's honesty, the current search. */
export function colorOptions(scene: Omit<Scene, 'space' | 'layout'>): { value: string; label: string }[] {
  const options = [{ value: NONE, label: 'none' }, ...scene.columns.map((c) => ({ value: c.name, label: c.name }))];
  if (scene.senses) options.push({ value: SENSE, label: scene.senses.title });
  if (scene.clusters) options.push({ value: CLUSTER, label: `clusters (${scene.clusters.meta.total})` });
  if (hasHonesty(scene.layoutInfo)) {
    for (const kind of HONESTY_KINDS) options.push({ value: HONESTY + kind, label: `map honesty: ${HONESTY_LABELS[kind]}` });
  }
  if (scene.query) options.push({ value: QUERY, label: `search: ${scene.query.result.query.slice(0, 40)}` });
  return options;
}

/** The colouring when the URL does not say: a categorical column with a telling name (else the first one with
 * more than one value), else the clusters when there are any, else none. */
export function defaultColor(columns: ColumnMeta[], hasClusters: boolean): string {
  const categorical = columns.filter((c) => c.kind === 'categorical' && c.n_unique > 1);
  const column = (categorical.find((c) => PREFERRED.test(c.name)) ?? categorical[0])?.name ?? NONE;
  return column || (hasClusters ? CLUSTER : NONE);
}

/** The data behind the colourings, fetched once each: clusters by space, honesty by space and layout. */
export class Colorings {
  private readonly clusters = new Memo<string, ClusterData>();
  private readonly honesty = new Memo<string, Honesty>();

  /** The space's clusters and labels; null (and a note in the console) when they fail to load. */
  async clustersOf(space: string): Promise<ClusterData | null> {
    try {
      return await this.clusters.get(space, async () => {
        const meta = await getClusters(space);
        return { meta, labels: await getClusterLabels(space, meta.version) };
      });
    } catch (e) {
      console.warn(`clusters of ${space}: ${message(e)}`);
      return null;
    }
  }

  /** The encoding of the colour choice ``column`` for ``n`` points (plain when the choice is not available). */
  async encodingFor(column: string, n: number, scene: Scene): Promise<Encoding> {
    if (column === QUERY && scene.query && scene.query.scores.length === n) return encodeScores(scene.query.scores, scene.query.result);
    if (column.startsWith(HONESTY) && scene.space && scene.layout && hasHonesty(scene.layoutInfo)) {
      const kind = column.slice(HONESTY.length) as HonestyKind;
      const { space, layout } = scene;
      const honesty = await this.honesty.get(`${space}\u0000${layout}`, () => getHonesty(space, layout));
      return encodeHonesty(honesty[kind], kind, scene.layoutInfo?.k ?? 0);
    }
    if (column === CLUSTER && scene.clusters) {
      const { meta, labels } = scene.clusters;
      if (labels.length !== n) throw new ApiError(500, 'the cluster labels do not match the map');
      const method = typeof meta.params.method === 'string' ? meta.params.method : '';
      return encodeClusters(labels, meta.clusters, method ? `clusters (${method})` : 'clusters');
    }
    if (column === SENSE && scene.senses && scene.senses.data.labels.length === n) {
      const { data, title } = scene.senses;
      return encodeClusters(data.labels, data.meta.clusters, title);
    }
    const meta = scene.columns.find((c) => c.name === column);
    if (!meta || !scene.space) return plainEncoding(n);
    return encode(await getColumn(scene.space, meta));
  }
}
