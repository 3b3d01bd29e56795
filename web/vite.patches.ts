// A build-time patch of regl-scatterplot (pinned in package-lock.json): let it read the points' columns.
//
// Given a million points, regl-scatterplot 1.16 makes a million small [x, y, z] arrays and then copies them into
// its state texture (~0.2 s and the garbage they leave, on every draw: the first paint and each recolouring).
// The map (web/src/views/map.ts, ``columnarPoints``) hands it an array whose items are made only when asked for and
// which carries its typed columns under ``Symbol.for('embedscope.columns')``; this patch makes the state texture
// read those columns directly. The build fails if the library's code no longer has the loop patched here (an
// upgrade must look at it again); unpatched, the map still draws, only slower.
import type { Plugin } from 'vite';

const LOOP = `    let w = 0;
    for (let i = 0; i < numNewPoints; ++i) {
      k = i * 4;
`;

const COLUMNAR = `    let w = 0;
    const columns = newPoints[Symbol.for('embedscope.columns')];
    if (columns) {
      for (let i = 0; i < numNewPoints; ++i) {
        k = i * 4;
        data[k] = columns.x[i];
        data[k + 1] = columns.y[i];
        z = columns.z ? columns.z[i] : 0;
        data[k + 2] = z;
        data[k + 3] = 0;
        zIsInts &&= Number.isInteger(z);
      }
    } else for (let i = 0; i < numNewPoints; ++i) {
      k = i * 4;
`;

export function columnarPoints(): Plugin {
  return {
    name: 'embedscope-columnar-points',
    enforce: 'pre',
    transform(code, id) {
      if (!/regl-scatterplot[\\/]dist[\\/]regl-scatterplot\.esm\.js$/.test(id.split('?')[0])) return null;
      const at = code.indexOf(LOOP);
      if (at < 0 || code.indexOf(LOOP, at + 1) >= 0) {
        throw new Error('regl-scatterplot changed: the state-texture loop patched by web/vite.patches.ts is not there once');
      }
      return { code: code.replace(LOOP, COLUMNAR), map: null };
    },
  };
}
