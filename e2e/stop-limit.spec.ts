import { expect, type Page, test } from '@playwright/test';
import { englishContext, signIn } from './desk.ts';
import { type SimDesk, simDesk } from './simDesk.ts';

// A stop-limit from the ticket to the blotter in a real Chromium, on a desk whose server runs in
// this process (simDesk.ts): the spec prints the trades itself through SimInjectTrade.

const PORT = Number(process.env.TAPE_E2E_PORT ?? 9101) + 1;
let desk: SimDesk;
const print = (price: number) => desk.print(price);
const ptBr = (n: number) => n.toFixed(2).replace('.', ',');

test.beforeAll(async () => {
  desk = await simDesk(PORT, 'stopper');
});

test.afterAll(async () => {
  await desk?.close();
});

const ticket = (page: Page) => page.getByRole('region', { name: 'Order ticket' });

test('a stop-limit from the ticket waits in the blotter, triggers at the first trade through its stop and fills', async ({
  browser,
}) => {
  const page = await (await englishContext(browser, desk.url)).newPage();
  await signIn(page, 'stopper');
  await page.getByRole('region', { name: 'Quotes' }).locator('tr[data-ticker="PETR4"]').click();
  const k = ticket(page);
  await page.keyboard.press('F2');
  await page.keyboard.press('Alt+T');
  await expect(k.getByRole('button', { name: 'Stop-limit' })).toHaveAttribute('aria-pressed', 'true');
  const stop = k.getByLabel(/^Stop price/);
  const limit = k.getByLabel(/^Limit price/);
  // pt-BR input, read back; a limit under a buy stop is refused before it is sent.
  await stop.fill('38,60');
  await expect(k.getByTestId('stop-read')).toHaveText('triggers at the first trade at 38,60 or above');
  await limit.fill('38,50');
  await expect(k).toContainText("A buy stop's limit price must be at or above its stop price");
  await stop.fill('38,605');
  await expect(k).toContainText('The stop price must be a multiple of the tick (0,01)');
  await stop.fill('38,60');
  // Marketable once triggered, whatever the simulated book's ask is.
  const ask = desk.t.server.market.quote('PETR4')?.top?.ask ?? 38.6;
  const limitPrice = Math.round((Math.max(38.6, ask) + 0.05) * 100) / 100;
  await limit.fill(ptBr(limitPrice));
  await k.getByLabel(/Quantity/).fill('100');
  await k.getByRole('button', { name: /^Buy 100 PETR4/ }).click();

  const row = page.getByRole('table', { name: 'Working and past orders' }).locator('tbody tr').first();
  await expect(row.getByTestId('stop')).toHaveText('stop 38,60 · waiting', { timeout: 10_000 });
  await expect(row).toContainText('new');
  await expect(row).toContainText(ptBr(limitPrice));
  await print(38.59); // one tick short: it keeps waiting
  await page.waitForTimeout(300);
  await expect(row.getByTestId('stop')).toHaveText('stop 38,60 · waiting');
  await print(38.6); // through the stop
  await expect(row.getByTestId('stop')).toHaveText('stop 38,60 · triggered', { timeout: 10_000 });
  await expect(row).toContainText('filled', { timeout: 10_000 });
  await expect(row).toContainText('100 @');
  const filled = Number(
    (await row.locator('.b-filled').textContent())?.split('@')[1]?.trim().replace('.', '').replace(',', '.'),
  );
  expect(filled).toBeLessThanOrEqual(limitPrice);
  // Its trail names the trigger.
  await row.getByRole('button', { name: /^Details of/ }).click();
  await expect(page.getByRole('list', { name: /Events of/ })).toContainText('stop triggered');
  await page.context().close();
});
