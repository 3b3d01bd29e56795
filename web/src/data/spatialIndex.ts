// The KDBush index regl-scatterplot uses for hover, lasso and zoom-to-area, built from typed arrays.
import KDBush from 'kdbush';

/** Node size regl-scatterplot builds its own index with. */
export const NODE_SIZE = 16;

/** A KDBush index (serialised, the format ``regl-scatterplot``'s ``draw(..., { spatialIndex })`` reads) of the
 * points ``(x[i], y[i])``. */
export function buildIndex(x: Float32Array, y: Float32Array): ArrayBuffer {
  const index = new KDBush(x.length, NODE_SIZE, Float32Array);
  for (let i = 0; i < x.length; i++) index.add(x[i], y[i]);
  index.finish();
  return index.data as ArrayBuffer;
}
