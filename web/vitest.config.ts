import { defineConfig } from 'vitest/config';

// Unit tests of the pure modules (no DOM): `npm test`. The page itself is tested in a browser by tests/*_web.py.
export default defineConfig({
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
  },
});
