import { defineConfig } from 'vite';
import { columnarPoints } from './vite.patches.ts';

// The built page is served by the FastAPI app (src/embedscope/server/app.py) from
// src/embedscope/server/static; `npm run dev` proxies the API to a running `embedscope serve`.
export default defineConfig({
  plugins: [columnarPoints()],
  base: './',
  build: {
    outDir: '../src/embedscope/server/static',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 800,
  },
  server: {
    proxy: { '/api': process.env.EMBEDSCOPE_API ?? 'http://127.0.0.1:8000' },
  },
});
