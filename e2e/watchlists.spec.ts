import { randomBytes } from 'node:crypto';
import { type APIRequestContext, type Browser, expect, type Page, request, test } from '@playwright/test';
import WebSocket from 'ws';
import { messageAuth, WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { englishContext, ensureUser, login, signIn as signInPage } from './desk.ts';

// Shared watchlists in the built app against the real server: two people editing one list (one
// of them offline for a while), a viewer who cannot change it, and an offline reload.

const run = randomBytes(3).toString('hex');
const USERS = { owner: `wl-ana-${run}`, editor: `wl-bia-${run}`, viewer: `wl-caio-${run}` };

// Two browsers sharing two CPU cores with the server: bounded, but not by the default 30 s.
test.describe.configure({ timeout: 60_000 });

let rest: APIRequestContext;
const tokens: Record<string, string> = {};
const as = (who: string) => ({ Authorization: `Bearer ${tokens[who]}` });

test.beforeAll(async ({ baseURL }) => {
  rest = await request.newContext({ baseURL });
  for (const username of Object.values(USERS)) {
    await ensureUser(rest, username, 'trader');
    tokens[username] = await login(rest, username);
  }
});
test.afterAll(async () => rest?.dispose());

/** A watchlist made over REST by the owner, shared as given. */
async function newWatchlist(name: string, members: Record<string, 'editor' | 'viewer'> = {}) {
  const res = await rest.post('/api/v1/watchlists', { headers: as(USERS.owner), data: { name } });
  const { watchlist } = await res.json();
  for (const [username, role] of Object.entries(members)) {
    const shared = await rest.put(`/api/v1/watchlists/${watchlist.id}/members/${username}`, {
      headers: as(USERS.owner),
      data: { role },
    });
    expect(shared.status()).toBe(200);
  }
  return watchlist as { id: number; room: string; name: string };
}

/** The stock y-websocket client in Node, signed in as `who`. */
function stockClient(baseURL: string | undefined, room: string, who: string): WebsocketProvider {
  return new WebsocketProvider(`${baseURL?.replace(/^http/, 'ws')}/yjs`, room, new Y.Doc(), {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    params: { token: tokens[who] as string },
    disableBc: true,
  });
}

async function signIn(browser: Browser, username: string, baseURL: string | undefined): Promise<Page> {
  const context = await englishContext(browser, baseURL as string);
  const page = await context.newPage();
  await signInPage(page, username);
  await showWatchlists(page);
  return page;
}

async function showWatchlists(page: Page) {
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Watchlists' }).click();
  await expect(wl(page)).toBeVisible();
}

/** The watchlists screen: every locator stays inside it, clear of the other panels. */
const wl = (page: Page) => page.getByRole('region', { name: 'Watchlists' });

async function openList(page: Page, name: string) {
  await wl(page)
    .getByRole('navigation', { name: 'Your watchlists' })
    .getByRole('button', { name, exact: true })
    .click();
  return wl(page).getByRole('article', { name: `Watchlist ${name}` });
}

const status = (page: Page) => wl(page).getByTestId('sync-status');

/** The list as the page shows it: tickers in order, each with its note. */
async function shown(page: Page): Promise<[string, string][]> {
  return wl(page)
    .locator('article tbody tr')
    .evaluateAll((rows) =>
      rows.map((r) => [
        (r as HTMLElement).dataset.ticker ?? '',
        (r.querySelector('textarea') as HTMLTextAreaElement).value,
      ]),
    );
}
const tickersOf = async (page: Page) => (await shown(page)).map(([t]) => t);

async function add(page: Page, ticker: string) {
  await wl(page).getByLabel('Add ticker').fill(ticker);
  await wl(page).getByRole('button', { name: 'Add', exact: true }).click();
  await expect(wl(page).locator(`article tbody tr[data-ticker="${ticker}"]`)).toBeVisible();
}

test('two editors converge after one of them edited offline', async ({ browser, baseURL }, testInfo) => {
  const name = `Desk ${run}`;
  const ana = await signIn(browser, USERS.owner, baseURL);
  await wl(ana).getByLabel('New watchlist name').fill(name);
  await wl(ana).getByRole('button', { name: 'Create' }).click();
  await expect(wl(ana).getByRole('article', { name: `Watchlist ${name}` })).toBeVisible();
  await expect(status(ana)).toHaveText('synced', { timeout: 10_000 });

  // Sharing with someone who does not exist shows at once, then is rolled back with the reason.
  await wl(ana).getByLabel('Share with username').fill('nobody-here');
  await wl(ana).getByRole('button', { name: 'Share', exact: true }).click();
  await expect(wl(ana).getByRole('alert')).toContainText('No active user named "nobody-here"');
  await expect(wl(ana).getByRole('list', { name: 'Members' })).toHaveCount(0);
  await wl(ana).getByRole('button', { name: 'Dismiss' }).click();
  await wl(ana).getByLabel('Share with username').fill(USERS.editor);
  await wl(ana).getByRole('button', { name: 'Share', exact: true }).click();
  await expect(wl(ana).getByRole('list', { name: 'Members' })).toContainText(USERS.editor);

  const bia = await signIn(browser, USERS.editor, baseURL);
  await openList(bia, name);
  await expect(status(bia)).toHaveText('synced', { timeout: 10_000 });
  // Presence: each sees the other.
  await expect(wl(ana).getByRole('list', { name: 'Also here' })).toContainText(USERS.editor);
  await expect(wl(bia).getByRole('list', { name: 'Also here' })).toContainText(USERS.owner);

  // A ticker that is not on the feed is refused where it is typed, with the ones that are.
  await wl(ana).getByLabel('Add ticker').fill('XXXX9');
  await wl(ana).getByRole('button', { name: 'Add', exact: true }).click();
  await expect(wl(ana).getByRole('alert')).toContainText("XXXX9 is not on Tape's feed. Tickers on it: PETR4");
  await expect(wl(ana).locator('article tbody tr[data-ticker="XXXX9"]')).toHaveCount(0);
  await add(ana, 'PETR4');
  await add(ana, 'VALE3');
  await add(bia, 'ITUB4');
  await expect.poll(() => tickersOf(ana), { timeout: 5_000 }).toEqual(['PETR4', 'VALE3', 'ITUB4']);
  await expect.poll(() => tickersOf(bia), { timeout: 5_000 }).toEqual(['PETR4', 'VALE3', 'ITUB4']);

  // bia goes offline and keeps working.
  await bia.context().setOffline(true);
  await expect(status(bia)).toHaveText('offline — edits saved on this device', { timeout: 5_000 });
  await add(bia, 'BBDC4');
  await wl(bia).getByRole('button', { name: 'Remove VALE3' }).click();
  const itubNote = wl(bia).getByLabel('Note for ITUB4');
  await itubNote.focus();
  await bia.keyboard.press('Alt+ArrowUp'); // keyboard reorder keeps the focus where it was
  await expect(itubNote).toBeFocused();
  await wl(bia).getByLabel('Note for PETR4').fill('stop 30,10');
  await expect.poll(() => tickersOf(bia), { timeout: 2_000 }).toEqual(['ITUB4', 'PETR4', 'BBDC4']);
  // A rename needs the server: offline it is shown, then rolled back with what to do.
  await wl(bia).getByLabel('Watchlist name', { exact: true }).fill('Renamed offline');
  await wl(bia).getByRole('button', { name: 'Rename' }).click();
  await expect(wl(bia).getByRole('alert')).toContainText('check your connection');
  await expect(wl(bia).getByLabel('Watchlist name', { exact: true })).toHaveValue(name);

  // Meanwhile ana edits the same list, the same note included.
  await add(ana, 'WINZ25');
  await wl(ana).getByRole('button', { name: 'Move WINZ25 up' }).click();
  await wl(ana).getByLabel('Note for PETR4').fill('earnings thu');
  await expect.poll(() => tickersOf(ana), { timeout: 2_000 }).toEqual(['PETR4', 'VALE3', 'WINZ25', 'ITUB4']);

  await bia.context().setOffline(false);
  await expect(status(bia)).toHaveText('synced', { timeout: 10_000 });
  await expect
    .poll(async () => JSON.stringify(await shown(ana)) === JSON.stringify(await shown(bia)), {
      timeout: 10_000,
    })
    .toBe(true);
  const merged = await shown(ana);
  expect(merged.map(([t]) => t).sort()).toEqual(['BBDC4', 'ITUB4', 'PETR4', 'WINZ25']);
  const petr = merged.find(([t]) => t === 'PETR4')?.[1] ?? '';
  expect(petr).toContain('stop 30,10');
  expect(petr).toContain('earnings thu');

  await ana.screenshot({ path: testInfo.outputPath('watchlist-owner-merged.png'), fullPage: true });
  await bia.screenshot({ path: testInfo.outputPath('watchlist-editor-merged.png'), fullPage: true });
  await ana.context().close();
  await bia.context().close();
});

test('a viewer sees the list but cannot change it', async ({ browser, baseURL }, testInfo) => {
  const name = `Read me ${run}`;
  const list = await newWatchlist(name, { [USERS.viewer]: 'viewer' });
  const ana = await signIn(browser, USERS.owner, baseURL);
  await openList(ana, name);
  await expect(status(ana)).toHaveText('synced', { timeout: 10_000 });
  await add(ana, 'PETR4');
  await add(ana, 'VALE3');
  await wl(ana).getByLabel('Note for VALE3').fill('watch iron ore');

  const caio = await signIn(browser, USERS.viewer, baseURL);
  const article = await openList(caio, name);
  await expect(status(caio)).toHaveText('synced', { timeout: 10_000 });
  await expect
    .poll(() => shown(caio), { timeout: 5_000 })
    .toEqual([
      ['PETR4', ''],
      ['VALE3', 'watch iron ore'],
    ]);
  await expect(wl(caio).getByRole('note')).toContainText('Read-only');
  await expect(wl(caio).getByRole('note')).toContainText(USERS.owner);
  // Every control in the open watchlist is disabled, every note read-only.
  const editable = await article.evaluate((el) =>
    [...el.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>('input, button, select, textarea')]
      .filter((c) => !c.disabled && !(c instanceof HTMLTextAreaElement && c.readOnly))
      .map((c) => c.getAttribute('aria-label') ?? c.textContent),
  );
  expect(editable).toEqual([]);
  // Rename, Add, and up/down/remove per row: no share or delete controls for a viewer.
  await expect(article.getByRole('button')).toHaveCount(8);
  // The keyboard path is closed too.
  await wl(caio).getByLabel('Note for PETR4').focus();
  await caio.keyboard.press('Alt+ArrowDown');
  await caio.keyboard.type('x');
  expect(await shown(caio)).toEqual([
    ['PETR4', ''],
    ['VALE3', 'watch iron ore'],
  ]);

  // A forced write with the viewer's own credentials, from the stock client: the server refuses it.
  const forced = stockClient(baseURL, list.room, USERS.viewer);
  const doc = forced.doc;
  try {
    const refused = new Promise<void>((resolve) => {
      forced.messageHandlers[messageAuth] = () => resolve();
    });
    await new Promise<void>((resolve) => forced.once('sync', () => resolve()));
    doc.getArray<string>('tickers').push(['HACK3']);
    await refused;
  } finally {
    forced.destroy();
  }
  // Updates reach a room's readers in order: once the owner's next edit shows, the refused one never will.
  await add(ana, 'ITUB4');
  await expect.poll(() => tickersOf(caio), { timeout: 5_000 }).toEqual(['PETR4', 'VALE3', 'ITUB4']);
  expect(await tickersOf(ana)).toEqual(['PETR4', 'VALE3', 'ITUB4']);

  await caio.screenshot({ path: testInfo.outputPath('watchlist-viewer.png'), fullPage: true });

  // Unshared, the viewer's open copy stops (close 4403) and leaves this device; the reason stays
  // on screen after the list refresh has removed it (it used to be cleared by then).
  await wl(ana)
    .getByRole('button', { name: `Stop sharing with ${USERS.viewer}` })
    .click();
  await expect(
    wl(caio).getByRole('navigation', { name: 'Your watchlists' }).getByRole('button', { name, exact: true }),
  ).toHaveCount(0, { timeout: 10_000 });
  await expect(wl(caio).getByRole('alert')).toContainText(`“${name}” is no longer shared with you`);
  // The owner deletes it for everyone.
  await wl(ana).getByRole('button', { name: 'Delete watchlist' }).click();
  await wl(ana).getByRole('button', { name: 'Delete for everyone' }).click();
  await expect(
    wl(ana).getByRole('navigation', { name: 'Your watchlists' }).getByRole('button', { name, exact: true }),
  ).toHaveCount(0);
  expect((await rest.get(`/api/v1/watchlists/${list.id}`, { headers: as(USERS.owner) })).status()).toBe(404);
  await ana.context().close();
  await caio.context().close();
});

test('a viewer unshared while offline is told why the list left, back online', async ({
  browser,
  baseURL,
}) => {
  const name = `Gone offline ${run}`;
  const list = await newWatchlist(name, { [USERS.viewer]: 'viewer' });
  const caio = await signIn(browser, USERS.viewer, baseURL);
  await openList(caio, name);
  await expect(status(caio)).toHaveText('synced', { timeout: 10_000 });
  await caio.context().setOffline(true);
  await expect(status(caio)).toHaveText('offline — showing the copy on this device', { timeout: 5_000 });
  const unshared = await rest.delete(`/api/v1/watchlists/${list.id}/members/${USERS.viewer}`, {
    headers: as(USERS.owner),
  });
  expect(unshared.status()).toBe(204);
  // Back online the socket's reconnect (closed with 4403) and the list refresh (no longer listing
  // it) race; whichever is first, the trader is told, once.
  await caio.context().setOffline(false);
  await expect(
    wl(caio).getByRole('navigation', { name: 'Your watchlists' }).getByRole('button', { name, exact: true }),
  ).toHaveCount(0, { timeout: 10_000 });
  await expect(wl(caio).getByRole('alert')).toContainText(`“${name}” is no longer shared with you`);
  await caio.context().close();
});

test('two editors typing in one note at once each keep their run of letters', async ({
  browser,
  baseURL,
}) => {
  const name = `Typing ${run}`;
  await newWatchlist(name, { [USERS.editor]: 'editor' });
  const ana = await signIn(browser, USERS.owner, baseURL);
  await openList(ana, name);
  await expect(status(ana)).toHaveText('synced', { timeout: 10_000 });
  await add(ana, 'PETR4');
  const bia = await signIn(browser, USERS.editor, baseURL);
  await openList(bia, name);
  await expect(status(bia)).toHaveText('synced', { timeout: 10_000 });
  await expect.poll(() => tickersOf(bia), { timeout: 5_000 }).toEqual(['PETR4']);

  // 20 characters each, typed into the same (empty) note at the same time.
  const runs = ['alvo 39,50 ate sexta', 'stop 37,90 se romper'] as const;
  const pages = [ana, bia] as const;
  await Promise.all(pages.map((p) => wl(p).getByLabel('Note for PETR4').click()));
  await Promise.all(pages.map((p, i) => p.keyboard.type(runs[i] as string, { delay: 25 })));
  const note = async (p: Page) => (await shown(p))[0]?.[1] ?? '';
  await expect.poll(async () => (await note(ana)).length, { timeout: 10_000 }).toBe(40);
  await expect.poll(() => note(bia), { timeout: 10_000 }).toBe(await note(ana));
  const merged = await note(ana);
  expect(merged).toContain(runs[0]);
  expect(merged).toContain(runs[1]);
  await ana.context().close();
  await bia.context().close();
});

test('an offline reload shows the copy on this device, edits included', async ({
  browser,
  baseURL,
}, testInfo) => {
  const name = `Offline ${run}`;
  const list = await newWatchlist(name);
  const ana = await signIn(browser, USERS.owner, baseURL);
  await openList(ana, name);
  await expect(status(ana)).toHaveText('synced', { timeout: 10_000 });
  await add(ana, 'PETR4');
  await wl(ana).getByLabel('Note for PETR4').fill('kept on this device');
  // The service worker takes control on the next load: from then on the shell loads offline.
  await ana.evaluate(() => navigator.serviceWorker.ready);
  await ana.reload();
  await showWatchlists(ana);
  await expect(status(ana)).toHaveText('synced', { timeout: 10_000 });

  await ana.context().setOffline(true);
  await add(ana, 'WDOZ25');
  await ana.reload();
  await showWatchlists(ana);
  await expect(wl(ana).getByRole('article', { name: `Watchlist ${name}` })).toBeVisible({ timeout: 10_000 });
  await expect(status(ana)).toHaveText('offline — edits saved on this device');
  await expect
    .poll(() => shown(ana), { timeout: 5_000 })
    .toEqual([
      ['PETR4', 'kept on this device'],
      ['WDOZ25', ''],
    ]);
  await ana.screenshot({ path: testInfo.outputPath('watchlist-offline-reload.png'), fullPage: true });

  // Back online, the edit made offline reaches the server.
  await ana.context().setOffline(false);
  await expect(status(ana)).toHaveText('synced', { timeout: 15_000 });
  const reader = stockClient(baseURL, list.room, USERS.owner);
  const doc = reader.doc;
  try {
    await expect
      .poll(() => doc.getArray<string>('tickers').toArray(), { timeout: 5_000 })
      .toEqual(['PETR4', 'WDOZ25']);
  } finally {
    reader.destroy();
  }
  await ana.context().close();
});
