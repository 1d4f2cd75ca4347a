import { expect, type Page, test } from '@playwright/test';
import { b3Now } from '../sync-server/testing/market.ts';
import { login, startTestServer, type TestServer } from '../sync-server/testing/server.ts';
import { englishContext, PASSWORD, signIn } from './desk.ts';

// A stop-limit from the ticket to the blotter in a real Chromium: the server runs in this process
// (its simulator library with it), so the spec prints the trades itself through SimInjectTrade,
// the way the server tests do; the market model is still (rate 0), so only those trades print.

const PORT = Number(process.env.TAPE_E2E_PORT ?? 9101) + 1;
let t: TestServer;
let tradeNumber = 100;

const sim = () => t.server.connector.sim as NonNullable<TestServer['server']['connector']['sim']>;
/** Prints a PETR4 trade and waits until the server has it as the last trade. */
async function print(price: number) {
  const n = ++tradeNumber;
  sim().injectTrade({ ticker: 'PETR4', exchange: 'B', date: b3Now(), price, qty: 100, tradeNumber: n });
  await expect.poll(() => t.server.market.quote('PETR4')?.tradeNumber, { message: `trade ${n}` }).toBe(n);
}
const ptBr = (n: number) => n.toFixed(2).replace('.', ',');

test.beforeAll(async () => {
  t = await startTestServer('pglite', { TAPE_PORT: String(PORT), TAPE_STATIC_DIR: 'dist' });
  sim().setRate(0);
  sim().resetOrders();
  const admin = await login(t.url);
  const call = async (method: string, path: string, body: unknown) => {
    const r = await fetch(`${t.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(r.ok, `${method} ${path}: ${r.status}`).toBe(true);
    return r.json();
  };
  await call('POST', '/api/v1/accounts', { id: 'SIM-0001', brokerId: 1982, name: 'SIM-0001' });
  const { user } = await call('POST', '/api/v1/users', {
    username: 'stopper',
    password: PASSWORD,
    role: 'trader',
  });
  await call('PUT', `/api/v1/users/${user.userId}/account`, { accountId: 'SIM-0001' });
  await expect.poll(() => t.server.orders?.isReady, { message: 'orders reconciled' }).toBe(true);
  await print(38.5);
});

test.afterAll(async () => {
  t?.server.connector.sim?.resetOrders();
  await t?.close();
});

const ticket = (page: Page) => page.getByRole('region', { name: 'Order ticket' });

test('a stop-limit from the ticket waits in the blotter, triggers at the first trade through its stop and fills', async ({
  browser,
}) => {
  const page = await (await englishContext(browser, t.url)).newPage();
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
  const ask = t.server.market.quote('PETR4')?.top?.ask ?? 38.6;
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
