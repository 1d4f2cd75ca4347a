import { expect, type Page, test } from '@playwright/test';
import { E2E_ADMIN_PASSWORD } from '../playwright.config.ts';
import { ensureUser, login, phoneContext, signIn } from './desk.ts';

// The trader's path in a real Chromium against the real server and the simulator DLL:
// ticket → blotter → position, the ticket's checks, the offline outbox, a cold offline start,
// the viewer's read-only ticket and the phone layout.

const ticket = (page: Page) => page.getByRole('region', { name: 'Order ticket' });
const blotterRows = (page: Page) =>
  page.getByRole('table', { name: 'Working and past orders' }).locator('tbody tr');

/** PETR4's last price as the quotes table shows it (pt-BR: 1.234,56). */
const lastPetr4 = async (page: Page) =>
  Number((await page.getByTestId('last-PETR4').textContent())?.replace('.', '').replace(',', '.'));

async function selectPetr4(page: Page) {
  await page.getByRole('region', { name: 'Quotes' }).locator('tr[data-ticker="PETR4"]').click();
  await expect(ticket(page).getByRole('combobox', { name: 'Ticker' })).toHaveValue('PETR4');
}

test('an order goes from the ticket, by keyboard, to the blotter and the position', async ({
  page,
  request,
}, testInfo) => {
  await ensureUser(request, 'trader-a', 'trader', 'E2E-A');
  await signIn(page, 'trader-a');
  await selectPetr4(page);
  await page.keyboard.press('F2'); // new buy ticket: focus on the quantity
  await expect(ticket(page).getByLabel(/Quantity/)).toBeFocused();
  await page.keyboard.press('ArrowUp'); // one lot more: 200
  await expect(ticket(page).getByLabel(/Quantity/)).toHaveValue('200');
  await page.keyboard.press('Alt+M');
  await expect(ticket(page).getByRole('button', { name: 'Market' })).toHaveAttribute('aria-pressed', 'true');
  await page.keyboard.press('Enter');

  const row = blotterRows(page).first();
  await expect(row).toContainText('PETR4');
  await expect(row).toContainText('filled', { timeout: 10_000 });
  await expect(row).toContainText('200 @');
  await expect(page.getByTestId('position-PETR4')).toHaveText('200', { timeout: 10_000 });
  await expect(page.getByRole('region', { name: 'Alerts' })).toContainText('Filled buy PETR4 200/200');
  await expect(page.getByRole('table', { name: 'Fills' }).locator('tbody tr')).not.toHaveCount(0);
  await expect(page.getByRole('table', { name: 'Fills' }).getByRole('columnheader')).toHaveText([
    'Time',
    'Ticker',
    'Side',
    'Qty',
    'Price',
  ]);
  // The ticket's verdict follows the order: filled, not the "pending new" it was sent as.
  await expect(ticket(page).getByRole('status')).toHaveText('Buy 200 PETR4: filled');
  // The chart follows the selected ticker and draws (history and the live bar) on its canvas.
  await expect(
    page
      .getByRole('region', { name: /^PETR4/ })
      .getByTestId('chart')
      .locator('canvas')
      .first(),
  ).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('trade.png'), fullPage: true });
});

test('with confirmation on, the ticket restates the order before it sends; Esc resets quantity and price', async ({
  page,
  request,
}) => {
  await ensureUser(request, 'trader-confirm', 'trader', 'E2E-CONFIRM');
  await signIn(page, 'trader-confirm');
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Settings' }).click();
  await page.getByLabel(/Confirm each order/).check();
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Trade' }).click();
  await selectPetr4(page);
  const t = ticket(page);
  const price = t.getByLabel(/^Price/);
  const atLast = await price.inputValue();
  await page.keyboard.press('F2');
  await t.getByLabel(/Quantity/).fill('300');
  await price.fill('37,50');
  await price.press('Enter');
  await expect(t.getByTestId('ticket-confirm')).toContainText('Buy 300 PETR4 · limit 37,50');
  await expect(t.getByRole('button', { name: 'Confirm and send (Enter)' })).toBeVisible();
  // A change after arming asks again, restating the new order.
  await price.fill('37,40');
  await expect(t.getByTestId('ticket-confirm')).toBeHidden();
  await price.press('Enter');
  await expect(t.getByTestId('ticket-confirm')).toContainText('Buy 300 PETR4 · limit 37,40');
  await price.press('Escape');
  await expect(t.getByTestId('ticket-confirm')).toBeHidden();
  await expect(t.getByLabel(/Quantity/)).toHaveValue('100');
  await expect(price).not.toHaveValue('37,40');
  expect(atLast).not.toBe('');
  await expect(blotterRows(page)).toHaveCount(0);
  // Enter, Enter: sent.
  await price.fill('37,40');
  await price.press('Enter');
  await price.press('Enter');
  await expect(blotterRows(page).first()).toContainText('37,40', { timeout: 10_000 });
  await expect(blotterRows(page).first()).toContainText('new');
});

test('the ticket checks lot and tick, and shows the reason the server names', async ({ page, request }) => {
  await ensureUser(request, 'trader-b', 'trader', 'E2E-B');
  await signIn(page, 'trader-b');
  await selectPetr4(page);
  const t = ticket(page);
  const qty = t.getByLabel(/Quantity/);
  const price = t.getByLabel(/Price/);
  await qty.fill('150');
  await expect(t).toContainText('Quantity must be a multiple of the lot (100)');
  await expect(t.getByRole('button', { name: /^Buy 150/ })).toBeDisabled();
  await qty.fill('100');
  await price.fill('38.505');
  await expect(t).toContainText('Price must be a multiple of the tick (0,01)');
  // pt-BR and plain decimals read alike, and the ticket says how it read them.
  await price.fill('38,52');
  await expect(t.getByTestId('price-read')).toHaveText('= 38,52');
  await price.fill('38.52');
  await expect(t.getByTestId('price-read')).toHaveText('= 38,52');
  // Past B3's price limits for the day, the ticket itself refuses (limits shown in pt-BR).
  const limits = (await t.getByTestId('price-limits').textContent())?.match(/(\d+,\d{2})–(\d+,\d{2})/);
  const ptBr = (s: string | undefined) => Number(s?.replace(',', '.'));
  const [min, max] = [ptBr(limits?.[1]), ptBr(limits?.[2])];
  await price.fill((max + 0.01).toFixed(2).replace('.', ','));
  await expect(t).toContainText(`Outside today's B3 limits (${limits?.[1]} to ${limits?.[2]})`);
  expect(min).toBeLessThan(max);
  // On the grid, within the limits but far from the last trade: only the server's risk engine
  // refuses it (its band is 5 %; the limits are about 10 % around the reference).
  const last = await lastPetr4(page);
  const far = last * 1.07 <= max ? last * 1.07 : last * 0.93;
  await price.fill((Math.round(far * 100) / 100).toFixed(2));
  await price.press('Enter');
  await expect(t.getByRole('status')).toContainText('price_outside_band');
  await expect(blotterRows(page).first()).toContainText('rejected');
});

test('an order entered offline waits in the outbox until the trader confirms it', async ({
  page,
  context,
  request,
}) => {
  await ensureUser(request, 'trader-c', 'trader', 'E2E-C');
  await signIn(page, 'trader-c');
  await selectPetr4(page);
  await context.setOffline(true);
  await expect(page.getByTestId('connection')).toHaveText(/Offline since/);
  const t = ticket(page);
  await t.getByRole('button', { name: 'Market' }).click();
  await t.getByLabel(/Quantity/).fill('300');
  await t.getByLabel(/Quantity/).press('Enter');
  await t.getByLabel(/Quantity/).fill('100');
  await t.getByLabel(/Quantity/).press('Enter');
  const outbox = page.getByRole('region', { name: /^Outbox/ });
  await expect(outbox.locator('li')).toHaveCount(2);
  await expect(t.getByRole('status')).toContainText('saved to the outbox (not sent)');
  await expect(outbox.getByRole('button', { name: 'Confirm' }).first()).toBeDisabled();
  await expect(blotterRows(page).filter({ hasText: 'PETR4' })).toHaveCount(0);

  await context.setOffline(false);
  await expect(page.getByTestId('connection')).toHaveText('Live', { timeout: 20_000 });
  // Nothing was sent by itself on reconnect.
  await page.waitForTimeout(1_000);
  await expect(blotterRows(page).filter({ hasText: 'PETR4' })).toHaveCount(0);
  await outbox.locator('li', { hasText: '300 PETR4' }).getByRole('button', { name: 'Confirm' }).click();
  await outbox.locator('li', { hasText: '100 PETR4' }).getByRole('button', { name: 'Discard' }).click();
  await expect(outbox).toHaveCount(0);
  await expect(blotterRows(page).filter({ hasText: 'PETR4' })).toHaveCount(1);
  await expect(page.getByTestId('position-PETR4')).toHaveText('300', { timeout: 10_000 });
});

test('a cold start offline shows the last state, marked stale, with its age', async ({
  page,
  context,
  request,
}, testInfo) => {
  await ensureUser(request, 'trader-d', 'trader', 'E2E-D');
  await signIn(page, 'trader-d');
  await selectPetr4(page);
  await ticket(page).getByRole('button', { name: 'Market' }).click();
  await ticket(page)
    .getByLabel(/Quantity/)
    .press('Enter');
  await expect(page.getByTestId('position-PETR4')).toHaveText('100', { timeout: 10_000 });
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.waitForTimeout(2_500); // the quote snapshot is saved every 2 s
  await context.setOffline(true);
  await page.reload();
  await expect(page.getByTestId('connection')).toHaveText(/Offline since/);
  await expect(page.getByTestId('last-PETR4')).toBeVisible();
  await expect(page.locator('tr[data-ticker="PETR4"]')).toContainText('stale');
  await expect(page.getByTestId('position-PETR4')).toHaveText('100');
  await expect(page.getByRole('region', { name: /^Positions/ })).toContainText(/as of \d\d:\d\d/);
  await page.screenshot({ path: testInfo.outputPath('offline-cold-start.png'), fullPage: true });
  await context.setOffline(false);
});

test('a working order is changed from the blotter, and its events tell the story', async ({
  page,
  request,
}) => {
  await ensureUser(request, 'trader-m', 'trader', 'E2E-M');
  await signIn(page, 'trader-m');
  await selectPetr4(page);
  const t = ticket(page);
  const last = await lastPetr4(page);
  // A buy 4 % under the market rests (inside the 5 % band and B3's limits).
  await t.getByLabel(/Price/).fill((Math.round(last * 96) / 100).toFixed(2));
  await t.getByLabel(/Quantity/).fill('100');
  await t.getByLabel(/Quantity/).press('Enter');
  const row = blotterRows(page).first();
  await expect(row).toContainText('new', { timeout: 10_000 });
  await row.getByRole('button', { name: /^Details of buy 100 PETR4/ }).click();
  const events = page.getByRole('list', { name: /^Events of order/ });
  await expect(events).toContainText('submitted');
  await expect(events).toContainText('accepted');
  const change = page.getByRole('form', { name: /^Change order/ });
  const lower = (Math.round(last * 95.5) / 100).toFixed(2);
  await change.getByLabel('Price').fill(lower);
  await change.getByLabel('Quantity').fill('150');
  await expect(change).toContainText('Quantity must be a multiple of the lot (100)');
  await expect(change.getByRole('button', { name: 'Change' })).toBeDisabled();
  await change.getByLabel('Quantity').fill('200');
  await change.getByRole('button', { name: 'Change' }).click();
  await expect(change.getByRole('status')).toHaveText('Change requested');
  // The broker's answer comes back over the socket: the row and the trail show the new order.
  await expect(row.locator('td.num').first()).toHaveText('200', { timeout: 10_000 });
  await expect(row).toContainText(lower.replace('.', ','));
  await expect(events).toContainText('replaced', { timeout: 10_000 });
  await row.getByRole('button', { name: /^Cancel buy 200 PETR4/ }).click();
  await expect(row).toContainText('canceled', { timeout: 10_000 });
  await expect(events).toContainText('canceled', { timeout: 10_000 });
});

test('a viewer watches but cannot send', async ({ page, request }) => {
  await ensureUser(request, 'viewer-a', 'viewer');
  await signIn(page, 'viewer-a');
  await expect(ticket(page)).toContainText('Viewers cannot send orders.');
  await expect(ticket(page).getByRole('button', { name: /^Buy / })).toBeDisabled();
});

test('a phone gets the one-handed monitoring layout', async ({ browser, request, baseURL }, testInfo) => {
  await ensureUser(request, 'trader-e', 'trader', 'E2E-E');
  const phone = await phoneContext(browser, baseURL);
  try {
    const page = await phone.newPage();
    await signIn(page, 'trader-e');
    for (const name of [/^Quotes/, /^Positions/, /^Alerts/])
      await expect(page.getByRole('region', { name })).toBeVisible();
    await expect(page.getByRole('region', { name: 'Order ticket' })).toHaveCount(0);
    // The screen switcher sits at the bottom, within the thumb's reach, with tall targets.
    const nav = await page.getByRole('navigation', { name: 'Screens' }).boundingBox();
    expect(nav && nav.y + nav.height).toBeGreaterThan(800);
    expect(nav?.height).toBeGreaterThanOrEqual(48);
    // No sideways scrolling on a phone.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: testInfo.outputPath('mobile-monitor.png'), fullPage: true });
  } finally {
    await phone.close();
  }
});

test('an admin sets limits and the kill switch; a refused change is rolled back', async ({
  page,
  request,
}) => {
  await ensureUser(request, 'trader-r', 'trader', 'E2E-R');
  await signIn(page, 'admin', E2E_ADMIN_PASSWORD);
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Risk' }).click();
  await page.getByLabel('Account').selectOption('E2E-R');
  const field = page.getByLabel('Max open orders');
  await expect(field).toHaveValue('50');
  await field.fill('0'); // the server accepts only positive limits
  await page.getByRole('button', { name: 'Save limits' }).click();
  await expect(page.getByRole('alert')).toContainText('Not saved, rolled back');
  await expect(field).toHaveValue('50');
  await field.fill('7');
  // Shown at once (optimistic); the reload below waits for the server to have answered.
  const saved = page.waitForResponse((r) => r.url().includes('/api/v1/risk/config/E2E-R') && r.ok());
  await page.getByRole('button', { name: 'Save limits' }).click();
  await saved;
  const killed = page.waitForResponse((r) => r.url().includes('/api/v1/risk/kill-switch/E2E-R') && r.ok());
  await page.getByRole('button', { name: 'Kill switch: block and cancel all' }).click();
  await expect(page.getByText('Kill switch ON: new orders are refused')).toBeVisible();
  await killed;
  await page.reload(); // the server's state, not the optimistic one
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Risk' }).click();
  await page.getByLabel('Account').selectOption('E2E-R');
  await expect(page.getByText('Kill switch ON: new orders are refused')).toBeVisible();
  await expect(page.getByLabel('Max open orders')).toHaveValue('7');
  await page.getByRole('button', { name: 'Release kill switch' }).click();
  await expect(page.getByText('Kill switch off')).toBeVisible();

  // Money limits are typed in reais, pt-BR; the server keeps centavos.
  const loss = page.getByLabel('Daily loss limit (R$)');
  await loss.fill('12.345,6x');
  await expect(page.getByRole('button', { name: 'Save limits' })).toBeDisabled();
  await loss.fill('12.345,67');
  const lossSaved = page.waitForResponse((r) => r.url().includes('/api/v1/risk/config/E2E-R') && r.ok());
  await page.getByRole('button', { name: 'Save limits' }).click();
  await lossSaved;
  const stored = await page.request.get('/api/v1/risk/config?account=E2E-R', {
    headers: { Authorization: `Bearer ${await login(page.request, 'admin', E2E_ADMIN_PASSWORD)}` },
  });
  expect((await stored.json()).config.dailyLossLimitCents).toBe(1_234_567);
  await page.reload();
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Risk' }).click();
  await page.getByLabel('Account').selectOption('E2E-R');
  await expect(page.getByLabel('Daily loss limit (R$)')).toHaveValue('12.345,67');
});
