import { defineConfig } from 'vite';
import { columnarPoints } from './vite.patches.ts';

// The Jupyter widget (anywidget): web/src/widget.ts as one self-contained ES module (regl-scatterplot and the
// CSS inlined), written next to the Python module that loads it (src/embedscope/widget.py). The main page
// build (vite.config.ts) is separate; `npm run build` runs both.
export default defineConfig({
  plugins: [columnarPoints()],
  build: {
    outDir: '../src/embedscope/widget_static',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 800,
    lib: { entry: 'src/widget.ts', formats: ['es'], fileName: () => 'widget.js' },
  },
});
