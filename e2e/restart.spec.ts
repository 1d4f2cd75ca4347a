import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { ADMIN_PASSWORD, type ServerProcess, spawnServer } from '../sync-server/testkit.ts';
import { signIn } from './desk.ts';

// A server restart while the app is reloaded (issue 14): the page comes from the service worker
// while the server is down, and the app must go Live by itself once the server is back. This
// spec runs a server of its own (the Playwright webServer cannot be restarted): same port, same
// data directory across the restart.

test.describe.configure({ timeout: 90_000 });

const dataDir = mkdtempSync(join(tmpdir(), 'tape-e2e-restart-'));
// A fixed port below the ephemeral range: the restart must bind it again, and a port the kernel
// had meanwhile given to some outgoing connection as its local port could not be.
const PORT = Number(process.env.TAPE_E2E_PORT ?? 9101) + 1000;
const serverEnv = {
  TAPE_PORT: String(PORT),
  TAPE_DATA_DIR: dataDir,
  TAPE_STATIC_DIR: process.env.TAPE_STATIC_DIR ?? 'dist',
  DATABASE_URL: '',
  REDIS_URL: '',
};

let server: ServerProcess | undefined;
const stop = async () => {
  const s = server;
  server = undefined;
  if (!s) return;
  s.child.kill('SIGTERM');
  expect(await s.exited, `server exit:\n${s.output().slice(-2_000)}`).toBe(0);
};
test.afterEach(stop);

test('after a restart the app goes Live by itself, also when reloaded while the server was down', async ({
  browser,
}) => {
  server = await spawnServer(serverEnv, 60_000);
  const context = await browser.newContext({ baseURL: server.url });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));

  await signIn(page, 'admin', ADMIN_PASSWORD);
  await page.evaluate(() => navigator.serviceWorker.ready);

  await stop();
  await page.reload(); // served by the service worker: the server is down
  const badge = page.getByTestId('connection');
  await expect(badge).toHaveText('Connecting…');

  server = await spawnServer(serverEnv, 60_000);
  const back = Date.now();
  await expect(badge).toHaveText('Live', { timeout: 5_000 });
  test.info().annotations.push({ type: 'live after the restart', description: `${Date.now() - back} ms` });
  expect(pageErrors).toEqual([]);
  await context.close();
});
