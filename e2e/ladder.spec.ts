import { expect, type Page, test } from '@playwright/test';
import { ensureUser, phoneContext, signIn } from './desk.ts';

// The price ladder (issue 17) in Chromium against the real server and the simulator's book:
// the levels it shows are the book frames', a click places a limit order at its price, the
// order can be moved (a change, SendChangeOrderV2) and cancelled at its level, all by keyboard too.

const ladder = (page: Page) => page.getByRole('region', { name: /^Price ladder/ });
const pt = (n: number) => n.toLocaleString('pt-BR', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const orderRows = (page: Page) => page.getByRole('region', { name: /^Orders/ }).locator('tr[data-order]');

interface Level {
  price: number;
  qty: number;
}

interface Book {
  bids: Level[];
  asks: Level[];
}

declare global {
  interface Window {
    __petr4Books: Book[];
  }
}

/**
 * Taps the page's sockets for PETR4's book frames (kind 2, alone or in a batch frame), decoded as
 * protocol.md lays them out, and keeps the last 20 in the page: the ladder is compared with what
 * its own page was delivered (Playwright's frame events reach the test later than the page under
 * load, and the simulator's book moves many times a second).
 */
async function tapBook(page: Page) {
  await page.addInitScript(() => {
    window.__petr4Books = [];
    const Native = window.WebSocket;
    window.WebSocket = class extends Native {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        const book = (bytes: Uint8Array) => {
          const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
          const n = bytes[3] ?? 0;
          if (bytes[1] !== 2 || String.fromCharCode(...bytes.subarray(4, 4 + n)) !== 'PETR4') return;
          const levels: Book = { bids: [], asks: [] };
          for (let i = 0; i < view.getUint16(4 + n, true); i++) {
            const o = 6 + n + 16 + i * 24;
            const level = { price: view.getFloat64(o, true), qty: view.getFloat64(o + 8, true) };
            (bytes[o + 20] === 0 ? levels.bids : levels.asks).push(level);
          }
          window.__petr4Books = [...window.__petr4Books.slice(-19), levels];
        };
        this.addEventListener('message', ({ data }) => {
          if (!(data instanceof ArrayBuffer)) return;
          const bytes = new Uint8Array(data);
          if (bytes[1] !== 4) return book(bytes);
          // A batch frame (batch mode, protocol.md): entries of type u8, length u32, bytes.
          const view = new DataView(data);
          for (let i = 0, o = 6; i < view.getUint16(4, true); i++) {
            const length = view.getUint32(o + 1, true);
            if (bytes[o] === 1) book(bytes.subarray(o + 5, o + 5 + length));
            o += 5 + length;
          }
        });
      }
    };
  });
}

const latestBook = (page: Page) => page.evaluate(() => window.__petr4Books.at(-1) ?? { bids: [], asks: [] });

async function openLadder(page: Page, user: string, account: string) {
  await ensureUser(page.request, user, 'trader', account);
  await tapBook(page);
  await signIn(page, user);
  await page.getByRole('region', { name: 'Quotes' }).locator('tr[data-ticker="PETR4"]').click();
  await expect(ladder(page).getByTestId('ladder').locator('tr[data-ticks]').first()).toBeVisible({
    timeout: 15_000,
  });
  await expect.poll(async () => (await latestBook(page)).bids.length, { timeout: 10_000 }).toBeGreaterThan(2);
}

test('the ladder shows the simulator’s book; a click places, moves and cancels at a level', async ({
  page,
}, testInfo) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await openLadder(page, 'ld-trader-a', 'E2E-LD-A');
  // The best bid and ask on the ladder are those of one of the last three book frames its page
  // was delivered (drawn on the next animation frame; the book may move meanwhile).
  await expect
    .poll(() =>
      page.evaluate(async () => {
        await new Promise((drawn) => requestAnimationFrame(() => requestAnimationFrame(drawn)));
        const pt = (n: number) =>
          n.toLocaleString('pt-BR', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
        const cell = (side: string, l: { price: number }) =>
          document.querySelector(`[data-testid="${side}-${pt(l.price)}"]`)?.firstChild?.textContent;
        return window.__petr4Books
          .slice(-3)
          .some(
            ({ bids: [bid], asks: [ask] }) =>
              bid !== undefined &&
              ask !== undefined &&
              cell('bid', bid) === bid.qty.toLocaleString('pt-BR') &&
              cell('ask', ask) === ask.qty.toLocaleString('pt-BR'),
          );
      }),
    )
    .toBe(true);

  // Centre on the last price, then buy 100 two ticks above the lowest row shown (about nine
  // under the best bid), far enough that the simulator's market does not reach it while the test
  // moves it two ticks lower (three ticks under the best bid was filled when the machine was slow).
  await ladder(page).getByRole('button', { name: 'Centre', exact: true }).click();
  const lowest = Number(
    await ladder(page).getByTestId('ladder').locator('tr[data-ticks]').last().getAttribute('data-ticks'),
  );
  const bestBid = Math.round(((await latestBook(page)).bids[0] as Level).price * 100);
  const at = Math.min(bestBid - 8, lowest + 2) / 100;
  await ladder(page)
    .getByTestId(`bid-${pt(at)}`)
    .click();
  await expect(ladder(page).getByTestId(`own-buy-${pt(at)}`)).toHaveText('100', { timeout: 10_000 });
  const row = orderRows(page).first();
  await expect(row).toContainText('PETR4');
  await expect(row).toContainText(pt(at));
  await expect(row).toContainText('new');

  // Select it, click two ticks lower: the order is changed there.
  const to = Math.round((at - 0.02) * 100) / 100;
  await ladder(page)
    .getByTestId(`own-buy-${pt(at)}`)
    .click();
  await ladder(page)
    .getByTestId(`bid-${pt(to)}`)
    .click();
  await expect(ladder(page).getByTestId(`own-buy-${pt(to)}`)).toHaveText('100', { timeout: 10_000 });
  await expect(ladder(page).getByTestId(`own-buy-${pt(at)}`)).toHaveText('');
  await expect(row).toContainText(pt(to));
  await page.screenshot({ path: testInfo.outputPath('ladder.png') });

  // Right-click it: cancelled at its level.
  await ladder(page)
    .getByTestId(`own-buy-${pt(to)}`)
    .click({ button: 'right' });
  await expect(row).toContainText('canceled', { timeout: 10_000 });
  await expect(ladder(page).getByTestId(`own-buy-${pt(to)}`)).toHaveText('');
});

test('keyboard only: centre, move the cursor, buy at it, cancel all on the ticker', async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await openLadder(page, 'ld-trader-b', 'E2E-LD-B');
  const grid = ladder(page).getByTestId('ladder');
  await grid.focus();
  await page.keyboard.press('c');
  // C puts the cursor on the last price as it was then (it may have moved since).
  const last = Number((await grid.locator('tr.cursor').getAttribute('data-ticks')) ?? 0);
  expect(last).toBeGreaterThan(0);
  for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowDown');
  await expect(grid.locator('tr.cursor')).toHaveAttribute('data-ticks', String(last - 5));
  await page.keyboard.press('b');
  const placed = pt((last - 5) / 100);
  await expect(ladder(page).getByTestId(`own-buy-${placed}`)).toHaveText('100', { timeout: 10_000 });
  // Alt+↓ moves the order on the cursor's row one tick down (a change), the cursor with it.
  await page.keyboard.press('Alt+ArrowDown');
  const price = pt((last - 6) / 100);
  await expect(ladder(page).getByTestId(`own-buy-${price}`)).toHaveText('100', { timeout: 10_000 });
  await expect(ladder(page).getByTestId(`own-buy-${placed}`)).toHaveText('');
  await expect(grid.locator('tr.cursor')).toHaveAttribute('data-ticks', String(last - 6));
  await page.keyboard.press('Shift+Delete');
  await expect(orderRows(page).first()).toContainText('canceled', { timeout: 10_000 });
  await expect(ladder(page).getByTestId(`own-buy-${price}`)).toHaveText('');
});

test('on a phone the ladder fits and is read-only until unlocked', async ({ browser, baseURL }) => {
  const phone = await phoneContext(browser, baseURL);
  try {
    const page = await phone.newPage();
    await ensureUser(page.request, 'ld-trader-c', 'trader', 'E2E-LD-C');
    await signIn(page, 'ld-trader-c');
    await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Trade' }).tap();
    const l = ladder(page);
    await expect(l.locator('tr[data-ticks]').first()).toBeVisible({ timeout: 15_000 });
    const box = await l.boundingBox();
    expect(box && box.x >= 0 && box.x + box.width <= 390).toBe(true);
    await expect(l).toContainText('Read-only: unlock to trade');
    const cell = l.locator('td.bid').nth(15);
    // The account's earlier orders (a run repeated on the same server) are counted first.
    const before = await orderRows(page).count();
    await cell.tap();
    await page.waitForTimeout(500);
    await expect(orderRows(page)).toHaveCount(before);
    await l.getByRole('button', { name: 'Unlock to trade' }).tap();
    await cell.tap();
    await expect(orderRows(page)).toHaveCount(before + 1, { timeout: 10_000 });
  } finally {
    await phone.close();
  }
});
