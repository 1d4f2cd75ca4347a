import { expect, test } from '@playwright/test';
import { ADMIN_PASSWORD } from '../sync-server/testing/server.ts';
import { englishContext, signIn } from './desk.ts';
import { ownServer } from './ownServer.ts';

// A server restart while the app is reloaded (issue 14): the page comes from the service worker
// while the server is down, and the app must go Live by itself once the server is back.

test.describe.configure({ timeout: 90_000 });

const server = ownServer(1000);
test.afterEach(() => server.stop());

test('after a restart the app goes Live by itself, also when reloaded while the server was down', async ({
  browser,
}) => {
  await server.start();
  const context = await englishContext(browser, server.url);
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));

  await signIn(page, 'admin', ADMIN_PASSWORD);
  await page.evaluate(() => navigator.serviceWorker.ready);

  await server.stop();
  await page.reload(); // served by the service worker: the server is down
  const badge = page.getByTestId('connection');
  await expect(badge).toHaveText('Connecting…');

  await server.start();
  const back = Date.now();
  await expect(badge).toHaveText('Live', { timeout: 5_000 });
  test.info().annotations.push({ type: 'live after the restart', description: `${Date.now() - back} ms` });
  expect(pageErrors).toEqual([]);
  await context.close();
});
