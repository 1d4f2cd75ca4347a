import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

// One config for the app build (Vite) and the unit/integration tests (Vitest).
export default defineConfig({
  root: 'app',
  publicDir: '../public',
  plugins: [react()],
  build: { outDir: '../dist', emptyOutDir: true, sourcemap: true },
  server: { proxy: { '/api': 'http://127.0.0.1:9001', '/ws': { target: 'ws://127.0.0.1:9001', ws: true } } },
  test: {
    root: '.',
    include: ['{app,sync-server,native,scripts}/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
