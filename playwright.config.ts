import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from '@playwright/test';
import { langState } from './e2e/lang.ts';

// e2e runs the built app against the real server (simulator DLL, fresh embedded database).
const PORT = Number(process.env.TAPE_E2E_PORT ?? 9101);
export const E2E_ADMIN_PASSWORD = 'e2e-admin-password';
const dataDir = mkdtempSync(join(tmpdir(), 'tape-e2e-'));

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results/e2e',
  timeout: 30_000,
  retries: 0,
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    // The specs read English; contexts a spec opens itself say so too (e2e/lang.ts).
    storageState: langState(`http://127.0.0.1:${PORT}`),
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  webServer: {
    command: 'npx tsx sync-server/main.ts',
    url: `http://127.0.0.1:${PORT}/healthz`,
    timeout: 60_000,
    reuseExistingServer: false,
    stdout: 'pipe',
    env: {
      TAPE_HOST: '127.0.0.1',
      TAPE_PORT: String(PORT),
      TAPE_DATA_DIR: dataDir,
      TAPE_ADMIN_PASSWORD: E2E_ADMIN_PASSWORD,
      TAPE_LOG_LEVEL: 'warn',
      DATABASE_URL: '',
      REDIS_URL: '',
    },
  },
});
