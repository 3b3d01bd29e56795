// The map's spatial index, built in a worker from the coordinates as typed arrays, without holding up the draw.
//
// Given {x, y} columns, regl-scatterplot turns a million points into a million small arrays and, above a
// million, copies them to its own worker to build the index: seconds of main-thread work before the first
// frame. Building the same KDBush index here from two Float32Arrays (transferred, not cloned) and handing it
// to ``draw`` skips both.
//
// The draw need not wait for it either. ``KDBush.from(buffer)`` (what regl-scatterplot does with the index it
// is given) reads the buffer in place, so the map hands over a buffer that already has the index's header and
// size, with every coordinate NaN (a box query finds nothing), and fills that same buffer after the first
// frame: from the server's kd order of the points when it has one (a gather, milliseconds), else with the index
// a worker builds. Hover, click and lasso work from the moment it is filled (``built``).
import KDBush from 'kdbush';
import { NODE_SIZE, buildIndex } from './spatialIndex';
import SpatialWorker from './spatial.worker?worker&inline';

/** Below this many points the library's own index (built in place) costs less than a worker. */
export const WORKER_ABOVE = 50_000;

export interface SpatialIndex {
  /** The serialised KDBush index to hand to ``draw``; ``null`` for small layouts (the library builds its own). */
  readonly data: ArrayBuffer | null;
  /** Start filling ``data`` (once; call it after the first draw, so that the work does not compete with it). */
  start(): void;
  /** Resolves once ``data`` holds the finished index (starting the work if nobody has). */
  readonly built: Promise<void>;
}

/** An index of the points ``(x[i], y[i])``: usable (empty) at once, complete at ``built``. With ``order`` (the
 * server's kd order of the points, ``/layouts/{method}/kdorder``) it is filled by one gather of the
 * coordinates; without it, or when it fails, a worker sorts the points. */
export function spatialIndex(x: Float32Array, y: Float32Array, order?: () => Promise<Uint32Array>): SpatialIndex {
  if (x.length <= WORKER_ABOVE) return { data: null, start: () => undefined, built: Promise.resolve() };
  const n = x.length;
  const index = new KDBush(n, NODE_SIZE, Float32Array);
  index.coords.fill(NaN); // no point is anywhere until the real index lands
  const data = index.data as ArrayBuffer;
  const fill = async (): Promise<void> => {
    if (order) {
      try {
        const rows = await order();
        if (rows.length === n) return gather(index.ids, index.coords, x, y, rows);
      } catch {
        // sort the points here instead
      }
    }
    const built = await indexOffThread(x, y);
    if (built.byteLength === data.byteLength) new Uint8Array(data).set(new Uint8Array(built));
  };
  let work: Promise<void> | null = null;
  const start = () => {
    work ??= fill();
  };
  return {
    data,
    start,
    get built() {
      start();
      return work as Promise<void>;
    },
  };
}

/** Fill a KDBush index's arrays with the points in ``rows`` order (the sort done elsewhere). */
function gather(ids: ArrayLike<number> & { set(a: ArrayLike<number>): void }, coords: { [i: number]: number },
                x: Float32Array, y: Float32Array, rows: Uint32Array): void {
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    coords[2 * i] = x[r];
    coords[2 * i + 1] = y[r];
  }
  ids.set(rows);
}

/** The finished index of the points, from a worker (or built here when the page cannot start one). */
async function indexOffThread(x: Float32Array, y: Float32Array): Promise<ArrayBuffer> {
  const xs = x.slice();
  const ys = y.slice();
  try {
    const worker = new SpatialWorker();
    return await new Promise<ArrayBuffer>((resolve) => {
      worker.onmessage = (e: MessageEvent<ArrayBuffer>) => {
        worker.terminate();
        resolve(e.data);
      };
      worker.onerror = () => {
        worker.terminate();
        resolve(buildIndex(x, y)); // a page that cannot start workers builds it here
      };
      worker.postMessage({ x: xs, y: ys }, [xs.buffer, ys.buffer]);
    });
  } catch {
    return buildIndex(x, y);
  }
}
