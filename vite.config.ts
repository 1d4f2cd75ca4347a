import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import react from '@vitejs/plugin-react';
import { VitePWA } from 'vite-plugin-pwa';
import { defaultExclude, defineConfig } from 'vitest/config';

// One config for the app build (Vite + the PWA plugin) and the tests (Vitest).

// The tests that boot a whole server (testing/server.ts's startTestServer or spawnServer) form the
// `server` project, found by what they call so none is left in `unit` or named twice.
const SERVER_TESTS = ['app', 'sync-server', 'native', 'scripts']
  .flatMap((dir) =>
    readdirSync(join(import.meta.dirname, dir), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.test.ts'))
      .map((f) => `${dir}/${f}`),
  )
  .filter((f) =>
    /\b(startTestServer|spawnServer)\(/.test(readFileSync(join(import.meta.dirname, f), 'utf8')),
  );

export default defineConfig({
  root: 'app',
  publicDir: '../public',
  plugins: [
    react(),
    VitePWA({
      // A new version waits for the trader to accept it ("update available"), never mid-order.
      registerType: 'prompt',
      injectRegister: false,
      includeAssets: ['favicon.svg', 'icons/apple-touch-icon.png'],
      manifest: {
        name: 'Tape — B3 trading terminal',
        short_name: 'Tape',
        description: 'Live B3 market data, orders and shared watchlists',
        lang: 'pt-BR',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        background_color: '#0b0f14',
        theme_color: '#0b0f14',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      // Our own worker (app/sw.ts): the precache, the candles' cache, and the alerts' notifications.
      strategies: 'injectManifest',
      srcDir: '.',
      filename: 'sw.ts',
      injectManifest: { globPatterns: ['**/*.{js,css,html,svg,png,webmanifest}'] },
    }),
  ],
  build: { outDir: '../dist', emptyOutDir: true, sourcemap: true },
  server: { proxy: { '/api': 'http://127.0.0.1:9001', '/ws': { target: 'ws://127.0.0.1:9001', ws: true } } },
  test: {
    root: '.',
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['{app,sync-server,native,scripts}/**/*.test.ts'],
          exclude: [...defaultExclude, ...SERVER_TESTS],
        },
      },
      { extends: true, test: { name: 'server', include: SERVER_TESTS } },
      // Crashes, outages and the CI soak: one file at a time, each owns the machine while it runs.
      {
        extends: true,
        test: {
          name: 'faults',
          include: ['faults/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 180_000,
        },
      },
    ],
  },
});
