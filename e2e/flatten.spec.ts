import { expect, type Page, test } from '@playwright/test';
import { ensureUser, signIn } from './desk.ts';

// Flatten and reverse from the desk, in Chromium against the server and the simulator: the
// hotkey (Shift+Z) asks first, restating the market order and the working order it cancels;
// Enter sends; the working order is cancelled, the position goes flat. Reverse from the
// positions panel leaves the opposite position; offline, a flatten waits in the outbox.

const ticket = (page: Page) => page.getByRole('region', { name: 'Order ticket' });
const orders = (page: Page) => page.getByRole('region', { name: /^Orders/ }).locator('tr[data-order]');

async function buyAtMarket(page: Page, qty: number) {
  await page.keyboard.press('F2');
  const q = ticket(page).getByLabel(/Quantity/);
  await expect(q).toBeFocused();
  await q.fill(String(qty));
  await page.keyboard.press('Alt+M');
  await page.keyboard.press('Enter');
}

test('Shift+Z flattens the selected ticker after restating it; reverse from the panel; offline it waits', async ({
  page,
  context,
}, testInfo) => {
  test.setTimeout(90_000);
  await page.setViewportSize({ width: 1440, height: 900 });
  await ensureUser(page.request, 'flat-trader', 'trader', 'E2E-FLAT');
  await signIn(page, 'flat-trader');
  await page.getByRole('region', { name: 'Quotes' }).locator('tr[data-ticker="PETR4"]').click();
  const position = page.getByTestId('position-PETR4');

  await buyAtMarket(page, 300);
  await expect(position).toHaveText('300', { timeout: 10_000 });
  // A working buy far under the market: the flatten must cancel it first.
  await page.keyboard.press('F2');
  await ticket(page)
    .getByLabel(/Quantity/)
    .fill('100');
  await page.keyboard.press('Alt+L');
  // The simulator's PETR4 starts at 38,50 and does not fall 2.5 % in a test's time.
  await ticket(page)
    .getByLabel(/^Price/)
    .fill('37,50');
  await page.keyboard.press('Enter');
  await expect(orders(page).first()).toContainText('new', { timeout: 10_000 });

  // The hotkey, from the desk (not a text field): a dialog says what will be sent.
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('Shift+Z');
  const ask = page.getByRole('alertdialog');
  await expect(ask).toBeVisible();
  await expect(ask.getByTestId('flatten-what')).toHaveText('Flatten PETR4: Sell 300 PETR4 at market');
  await expect(ask).toContainText('First 1 working order is cancelled');
  await page.screenshot({ path: testInfo.outputPath('flatten-ask.png') });
  await page.keyboard.press('Enter');
  await expect(ask).toBeHidden();
  await expect(position).toHaveText('0', { timeout: 10_000 });
  await expect(orders(page).filter({ hasText: 'canceled' })).toHaveCount(1, { timeout: 10_000 });
  await expect(orders(page).first()).toContainText('sell');
  await expect(orders(page).first()).toContainText('filled');

  // Esc keeps the position.
  await buyAtMarket(page, 200);
  await expect(position).toHaveText('200', { timeout: 10_000 });
  const panel = page.getByRole('region', { name: /^Positions/ });
  await panel.locator('tr[data-position="PETR4"]').getByRole('button', { name: 'Reverse' }).click();
  await expect(ask.getByTestId('flatten-what')).toHaveText('Reverse PETR4: Sell 400 PETR4 at market');
  await page.keyboard.press('Escape');
  await expect(ask).toBeHidden();
  await page.waitForTimeout(300);
  await expect(position).toHaveText('200');
  // Confirmed: the opposite position.
  await panel.locator('tr[data-position="PETR4"]').getByRole('button', { name: 'Reverse' }).click();
  await ask.getByRole('button', { name: /Confirm/ }).click();
  await expect(position).toHaveText('-200', { timeout: 10_000 });

  // Offline: held in the outbox, sent once on its confirm.
  await context.setOffline(true);
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('Shift+Z');
  await page.keyboard.press('Enter');
  const outbox = page.getByRole('region', { name: /^Outbox/ });
  await expect(outbox).toContainText('Flatten PETR4');
  await expect(position).toHaveText('-200');
  await context.setOffline(false);
  await outbox.getByRole('button', { name: 'Confirm' }).click({ timeout: 15_000 });
  await expect(position).toHaveText('0', { timeout: 10_000 });
  await expect(outbox).toBeHidden();
});
