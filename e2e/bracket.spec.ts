import { expect, test } from '@playwright/test';
import { reais } from '../app/format.ts';
import type { BracketJson, OrderJson } from '../sync-server/shared/orders.ts';
import { login } from '../sync-server/testing/server.ts';
import { englishContext, PASSWORD, signIn } from './desk.ts';
import { type SimDesk, simDesk } from './simDesk.ts';

// An OCO bracket placed on a position from the positions panel in a real Chromium, on a desk whose
// server runs in this process (simDesk.ts). The price is moved up through the take-profit with
// SimInjectTrade; the simulator's broker fills resting limit orders from its own book, not from
// injected prints, so the take-profit's execution at 39,00 as the price trades through it is
// SimFillOrder's. The server then cancels the stop; the panel shows it, and the net P&L with costs.

const PORT = Number(process.env.TAPE_E2E_PORT ?? 9101) + 2;
let desk: SimDesk;
let trader: string;
const rest = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
  const r = await fetch(`${desk.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${trader}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(r.ok, `${method} ${path}: ${r.status}`).toBe(true);
  return (await r.json()) as T;
};

test.beforeAll(async () => {
  desk = await simDesk(PORT, 'bracketer');
  // R$ 4,90 an order and 0,0250 % of the notional on equities.
  await desk.call('PUT', '/api/v1/costs/SIM-0001', {
    brokerage: 'per_order',
    brokerageCents: 490,
    equitiesFeePpm: 250,
    futuresFeeCents: 0,
  });
  trader = await login(desk.url, 'bracketer', PASSWORD);
  await rest('POST', '/api/v1/orders', {
    clientOrderId: 'long-1',
    ticker: 'PETR4',
    side: 'buy',
    type: 'market',
    qty: 100,
  });
});

test.afterAll(async () => {
  await desk?.close();
});

test('a bracket on a position: the take-profit fills as the price trades through it, the stop is cancelled, and the net P&L shows the costs', async ({
  browser,
}) => {
  const page = await (await englishContext(browser, desk.url)).newPage();
  await page.setViewportSize({ width: 1440, height: 900 });
  await signIn(page, 'bracketer');
  const positions = page.getByRole('region', { name: 'Positions' });
  await expect(positions.getByTestId('position-PETR4')).toHaveText('100', { timeout: 10_000 });
  await positions.getByRole('button', { name: 'OCO', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'OCO on PETR4' });
  await expect(dialog.getByLabel('Quantity')).toHaveValue('100');
  // pt-BR input; a take-profit under the last trade is refused with the server's reason.
  await dialog.getByLabel('Take-profit').fill('38,40');
  await dialog.getByLabel('Stop: trigger price').fill('38,00');
  await dialog.getByLabel('Stop: limit price').fill('37,90');
  await page.keyboard.press('Enter');
  await expect(dialog.getByRole('alert')).toContainText('take-profit must be above the last trade');
  await dialog.getByLabel('Take-profit').fill('39,00');
  await page.keyboard.press('Enter');
  await expect(dialog).toBeHidden();

  const list = page.getByRole('region', { name: 'OCO' });
  const item = list.locator('li').first();
  await expect(item).toContainText('PETR4 long 100');
  await expect(item).toContainText('take-profit 39,00 · stop 38,00 / 37,90');
  await expect(item.getByTestId('bracket-state')).toHaveText('active', { timeout: 10_000 });
  const orders = page.getByRole('table', { name: 'Working and past orders' });
  await expect(orders.locator('tbody tr').filter({ hasText: 'stop 38,00' })).toContainText('new');
  await page.screenshot({ path: 'test-results/bracket-active-1440.png' });

  // The price trades up through the take-profit; the broker fills it there.
  const [bracket] = (await rest<{ brackets: BracketJson[] }>('GET', '/api/v1/brackets')).brackets;
  const tp = (await rest<{ order: OrderJson }>('GET', `/api/v1/orders/${bracket?.takeProfitOrderId}`)).order;
  await desk.print(38.8);
  await desk.print(39);
  desk.sim().fillOrder(BigInt(tp.localOrderId as string), 100, 39);
  await desk.print(39.05);

  await expect(item.getByTestId('bracket-state')).toHaveText('closed: take-profit filled, stop cancelled', {
    timeout: 10_000,
  });
  await expect(orders.locator('tbody tr').filter({ hasText: 'stop 38,00' })).toContainText('canceled');
  await expect(positions.getByTestId('position-PETR4')).toHaveText('0');
  // Net of the day = realized − costs, as the server counted them (two orders' brokerage and fees).
  const day = await rest<{ realizedTodayCents: number; costsTodayCents: number }>('GET', '/api/v1/positions');
  expect(day.costsTodayCents).toBeGreaterThan(2 * 490);
  await expect(positions.getByTestId('costs-today')).toHaveText(reais(day.costsTodayCents));
  await expect(positions.getByTestId('net-today')).toHaveText(
    reais(day.realizedTodayCents - day.costsTodayCents),
  );
  await page.screenshot({ path: 'test-results/bracket-closed-1440.png' });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: 'test-results/bracket-closed-390.png', fullPage: true });
  await page.context().close();
});

test('offline, a bracket waits in the outbox and is sent once on its confirm', async ({ browser }) => {
  await rest('POST', '/api/v1/orders', {
    clientOrderId: 'long-2',
    ticker: 'PETR4',
    side: 'buy',
    type: 'market',
    qty: 200,
  });
  const context = await englishContext(browser, desk.url);
  const page = await context.newPage();
  await page.setViewportSize({ width: 1440, height: 900 });
  await signIn(page, 'bracketer');
  const positions = page.getByRole('region', { name: 'Positions' });
  await expect(positions.getByTestId('position-PETR4')).toHaveText('200', { timeout: 10_000 });
  const before = (await rest<{ brackets: BracketJson[] }>('GET', '/api/v1/brackets')).brackets.length;
  await context.setOffline(true);
  await positions.getByRole('button', { name: 'OCO', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'OCO on PETR4' });
  await dialog.getByLabel('Take-profit').fill('39,60');
  await dialog.getByLabel('Stop: trigger price').fill('38,50');
  await dialog.getByLabel('Stop: limit price').fill('38,40');
  await page.keyboard.press('Enter');
  await expect(dialog).toBeHidden();
  const outbox = page.getByRole('region', { name: /^Outbox/ });
  await expect(outbox).toContainText('OCO 200 PETR4: take-profit 39,60, stop 38,50 (limit 38,40)');
  expect((await rest<{ brackets: BracketJson[] }>('GET', '/api/v1/brackets')).brackets.length).toBe(before);
  await context.setOffline(false);
  await outbox.getByRole('button', { name: 'Confirm' }).click({ timeout: 15_000 });
  await expect(outbox).toBeHidden();
  const item = page.getByRole('region', { name: 'OCO' }).locator('li').first();
  await expect(item).toContainText('take-profit 39,60 · stop 38,50 / 38,40');
  await expect(item.getByTestId('bracket-state')).toHaveText('active', { timeout: 10_000 });
  expect((await rest<{ brackets: BracketJson[] }>('GET', '/api/v1/brackets')).brackets.length).toBe(
    before + 1,
  );
  await context.close();
});

test('from the ticket: a market buy with OCO, the legs sent once the entry filled', async ({ browser }) => {
  // The last trade the legs are checked against (the tests before may have left another).
  await desk.print(39.05);
  const context = await englishContext(browser, desk.url);
  const page = await context.newPage();
  await page.setViewportSize({ width: 1440, height: 900 });
  await signIn(page, 'bracketer');
  await page.getByRole('region', { name: 'Quotes' }).locator('tr[data-ticker="PETR4"]').click();
  const before = (await rest<{ brackets: BracketJson[] }>('GET', '/api/v1/brackets')).brackets.length;
  const ticket = page.getByRole('region', { name: 'Order ticket' });
  await page.keyboard.press('F2');
  await page.keyboard.press('Alt+M');
  await ticket.getByLabel('With OCO (take-profit and stop)').check();
  await ticket.getByLabel('Take-profit', { exact: true }).fill('39,70');
  await ticket.getByLabel('Stop: trigger price').fill('38,60');
  await ticket.getByLabel('Stop: limit price').fill('38,50');
  await ticket.screenshot({ path: 'test-results/ticket-oco-1440.png' });
  await ticket.getByRole('button', { name: 'Buy 100 PETR4' }).click();
  await expect(ticket.getByRole('status')).toContainText('OCO on PETR4 sent: take-profit 39,70, stop 38,60');
  const item = page.getByRole('region', { name: 'OCO' }).locator('li').filter({ hasText: '39,70' });
  await expect(item).toContainText('PETR4 long 100', { timeout: 10_000 });
  await expect(item.getByTestId('bracket-state')).toHaveText('active', { timeout: 10_000 });
  const brackets = (await rest<{ brackets: BracketJson[] }>('GET', '/api/v1/brackets')).brackets;
  expect(brackets.length).toBe(before + 1);
  expect(brackets[0]).toMatchObject({ qty: 100, takeProfit: 39.7, stopPrice: 38.6, stopLimit: 38.5 });
  expect(brackets[0]?.entryOrderId).not.toBeNull();
  await context.close();
});
