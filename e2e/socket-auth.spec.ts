import { expect, type Page, test } from '@playwright/test';
import { ADMIN_PASSWORD } from '../sync-server/testing/server.ts';
import { englishContext, signIn } from './desk.ts';
import { ownServer } from './ownServer.ts';

// No access token in a URL (issue 14): the sockets open with one-time tickets. Every URL the app
// requests (pages and the service worker), every socket it opens and every console line it prints
// are recorded through a sign-in, a watchlist and a server restart (the failed connects that
// once printed the token), and none may hold a JWT.

test.describe.configure({ timeout: 90_000 });

const server = ownServer(1001);
test.afterEach(() => server.stop());

const wl = (page: Page) => page.getByRole('region', { name: 'Watchlists' });

test('no access token in any URL the app requests, any socket it opens, or its console', async ({
  browser,
}) => {
  await server.start();
  const context = await englishContext(browser, server.url);
  const requested: string[] = [];
  const sockets: string[] = [];
  const printed: string[] = [];
  context.on('request', (r) => requested.push(r.url()));
  context.on('console', (m) => printed.push(`${m.text()} (${m.location().url})`));
  const page = await context.newPage();
  page.on('websocket', (ws) => sockets.push(ws.url()));
  page.on('pageerror', (err) => printed.push(err.message));

  await signIn(page, 'admin', ADMIN_PASSWORD);
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Watchlists' }).click();
  await wl(page).getByLabel('New watchlist name').fill('Tickets');
  await wl(page).getByRole('button', { name: 'Create' }).click();
  const sync = wl(page).getByTestId('sync-status');
  await expect(sync).toHaveText('synced', { timeout: 10_000 });

  // Both sockets drop and are opened again, each time with a fresh ticket.
  const before = sockets.length;
  await server.stop();
  const badge = page.getByTestId('connection');
  await expect(badge).toHaveText('Reconnecting…');
  await server.start();
  await expect(badge).toHaveText('Live', { timeout: 15_000 });
  await expect(sync).toHaveText('synced', { timeout: 15_000 });

  const everything = [...requested, ...sockets, ...printed];
  expect(everything.filter((line) => /eyJ|[?&]token=/.test(line))).toEqual([]);
  const reopened = sockets.slice(before);
  expect(
    reopened.some((u) => /\/ws\?ticket=[\w.-]+$/.test(u)),
    reopened.join('\n'),
  ).toBe(true);
  expect(
    reopened.some((u) => /\/yjs\/watchlist:\d+\?ticket=[\w.-]+$/.test(u)),
    reopened.join('\n'),
  ).toBe(true);
  expect(requested.some((u) => u.endsWith('/api/v1/auth/socket-ticket'))).toBe(true);
  expect(printed.length, 'the console was recorded').toBeGreaterThan(0);
  // Each ticket opened one socket.
  const tickets = sockets.map((u) => new URL(u).searchParams.get('ticket'));
  expect(new Set(tickets).size).toBe(tickets.length);
  await context.close();
});
