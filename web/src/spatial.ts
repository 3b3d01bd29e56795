// The map's spatial index, built in a worker from the coordinates as typed arrays.
//
// Given {x, y} columns, regl-scatterplot turns a million points into a million small arrays and, above a
// million, copies them to its own worker to build the index: seconds of main-thread work before the first
// frame. Building the same KDBush index here from two Float32Arrays (transferred, not cloned) and handing it
// to ``draw`` skips both.
import { buildIndex } from './spatialIndex';
import SpatialWorker from './spatial.worker?worker&inline';

/** Below this many points the library's own index (built in place) costs less than a worker. */
export const WORKER_ABOVE = 50_000;

/** The serialised KDBush index of the points; ``null`` for small layouts (the library builds its own). */
export async function spatialIndex(x: Float32Array, y: Float32Array): Promise<ArrayBuffer | null> {
  if (x.length <= WORKER_ABOVE) return null;
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
