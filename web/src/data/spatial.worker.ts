// Builds the map's spatial index off the main thread (see spatial.ts).
import { buildIndex } from './spatialIndex';

self.onmessage = (e: MessageEvent<{ x: Float32Array; y: Float32Array }>) => {
  const data = buildIndex(e.data.x, e.data.y);
  (self as unknown as Worker).postMessage(data, [data]);
};
