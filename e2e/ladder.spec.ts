import { expect, type Page, test } from '@playwright/test';
import { decodeBatch, decodeFrame, FrameKind, isBatch } from '../sync-server/shared/market.ts';
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

/**
 * Watches the socket's PETR4 book frames (kind 2, alone or in a batch frame: the app's socket is
 * in batch mode) and keeps the latest, decoded (protocol.md).
 */
function watchBook(page: Page) {
  const latest: { bids: Level[]; asks: Level[] } = { bids: [], asks: [] };
  const onFrame = (bytes: Uint8Array) => {
    const f = decodeFrame(bytes);
    if (f.kind !== FrameKind.book || f.ticker !== 'PETR4') return;
    latest.bids = f.bids.map(({ price, qty }) => ({ price, qty }));
    latest.asks = f.asks.map(({ price, qty }) => ({ price, qty }));
  };
  page.on('websocket', (ws) =>
    ws.on('framereceived', ({ payload }) => {
      if (typeof payload === 'string') return;
      if (!isBatch(payload)) return onFrame(payload);
      for (const m of decodeBatch(payload)) if (typeof m !== 'string') onFrame(m);
    }),
  );
  return latest;
}

async function openLadder(page: Page, user: string, account: string) {
  await ensureUser(page.request, user, 'trader', account);
  const book = watchBook(page);
  await signIn(page, user);
  await page.getByRole('region', { name: 'Quotes' }).locator('tr[data-ticker="PETR4"]').click();
  await expect(ladder(page).getByTestId('ladder').locator('tr[data-ticks]').first()).toBeVisible({
    timeout: 15_000,
  });
  await expect.poll(() => book.bids.length, { timeout: 10_000 }).toBeGreaterThan(2);
  return book;
}

test('the ladder shows the simulator’s book; a click places, moves and cancels at a level', async ({
  page,
}, testInfo) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  const book = await openLadder(page, 'ld-trader-a', 'E2E-LD-A');
  // The best bid and ask on the ladder are the latest frame's (read together, retried while the
  // book moves between the two reads).
  await expect
    .poll(async () => {
      const [bid, ask] = [book.bids[0], book.asks[0]];
      if (!bid || !ask) return false;
      const cells = await page.evaluate(
        ([b, a]) => [
          document.querySelector(`[data-testid="bid-${b}"]`)?.firstChild?.textContent,
          document.querySelector(`[data-testid="ask-${a}"]`)?.firstChild?.textContent,
        ],
        [pt(bid.price), pt(ask.price)],
      );
      return cells[0] === bid.qty.toLocaleString('pt-BR') && cells[1] === ask.qty.toLocaleString('pt-BR');
    })
    .toBe(true);

  // Buy 100 three ticks under the best bid: it rests there, on the ladder and in the blotter.
  const at = Math.round(((book.bids[0] as Level).price - 0.03) * 100) / 100;
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
  const price = pt((last - 5) / 100);
  await expect(ladder(page).getByTestId(`own-buy-${price}`)).toHaveText('100', { timeout: 10_000 });
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
    await cell.tap();
    await page.waitForTimeout(500);
    await expect(orderRows(page)).toHaveCount(0);
    await l.getByRole('button', { name: 'Unlock to trade' }).tap();
    await cell.tap();
    await expect(orderRows(page)).toHaveCount(1, { timeout: 10_000 });
  } finally {
    await phone.close();
  }
});
