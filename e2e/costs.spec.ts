import { expect, type Page, test } from '@playwright/test';
import { E2E_ADMIN_PASSWORD } from '../playwright.config.ts';
import { englishContext, ensureUser, login, PHONE, phoneContext, signIn } from './desk.ts';

// Costs in P&L: an admin sets an account's cost schedule in reais on the Admin → Costs screen,
// its trader buys and sells PETR4 at market, and the positions panel shows the ticker's gross,
// costs and net and the day's net, to the centavo of what the fills were charged.

const ACCOUNT = 'E2E-COSTS';
const BRL = new Intl.NumberFormat('pt-BR', { style: 'currency', currency: 'BRL' });
const reais = (cents: number) => BRL.format(cents / 100);

const ticket = (page: Page) => page.getByRole('region', { name: 'Order ticket' });

async function trade(page: Page, key: 'F2' | 'F3') {
  await page.keyboard.press(key);
  await expect(ticket(page).getByLabel(/Quantity/)).toBeFocused();
  await page.keyboard.press('Alt+M');
  await page.keyboard.press('Enter');
}

test('an admin sets an account’s costs; its trader sees gross, costs and net per ticker and the day’s net', async ({
  page,
  browser,
  baseURL,
  request,
}, testInfo) => {
  test.setTimeout(90_000); // three sign-ins and two round trips to the simulator
  await ensureUser(request, 'trader-costs', 'trader', ACCOUNT);

  // The admin: brokerage R$ 4,90 an order, 0,0250 % on equities, R$ 0,30 a mini contract.
  await signIn(page, 'admin', E2E_ADMIN_PASSWORD);
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Admin' }).click();
  await page.getByRole('navigation', { name: 'Admin' }).getByRole('button', { name: 'Costs' }).click();
  const costs = page.getByRole('region', { name: 'Costs per account' });
  await costs.getByLabel('Account').selectOption(ACCOUNT);
  await expect(costs.getByTestId('costs-since')).toContainText('Tape’s defaults');
  await costs.getByRole('radio', { name: 'per order' }).check();
  await costs.getByLabel(/^Brokerage per order/).fill('4,90');
  await costs.getByLabel(/^B3 fees, equities/).fill('0,025');
  await expect(costs.getByText('R$ 2,50 per R$ 10.000,00 traded')).toBeVisible();
  await costs.getByLabel(/^B3 fees, mini contracts/).fill('abc');
  await expect(costs.getByText('Type reais, e.g. 50.000,00')).toBeVisible();
  await expect(costs.getByRole('button', { name: 'Save costs' })).toBeDisabled();
  await costs.getByLabel(/^B3 fees, mini contracts/).fill('0,30');
  await costs.getByRole('button', { name: 'Save costs' }).click();
  await expect(costs.getByRole('status')).toHaveText('Saved: applies from now on.');
  await expect(costs.getByTestId('costs-since')).toContainText('In effect since');
  const headers = { Authorization: `Bearer ${await login(request, 'admin', E2E_ADMIN_PASSWORD)}` };
  const stored = await (await request.get(`/api/v1/costs?account=${ACCOUNT}`, { headers })).json();
  expect(stored.schedule).toEqual({
    brokerage: 'per_order',
    brokerageCents: 490,
    equitiesFeePpm: 250,
    futuresFeeCents: 30,
  });
  await page.setViewportSize({ width: 1440, height: 900 });
  await costs.screenshot({ path: testInfo.outputPath('admin-costs-1440.png') });

  // The trader, on a desktop: buys 100 PETR4 at market, then sells them.
  const desk = await englishContext(browser, baseURL as string);
  try {
    const trader = await desk.newPage();
    await trader.setViewportSize({ width: 1440, height: 900 });
    await signIn(trader, 'trader-costs');
    await trader.getByRole('region', { name: 'Quotes' }).locator('tr[data-ticker="PETR4"]').click();
    await trade(trader, 'F2');
    await expect(trader.getByTestId('position-PETR4')).toHaveText('100', { timeout: 10_000 });
    await trade(trader, 'F3');
    await expect(trader.getByTestId('position-PETR4')).toHaveText('0', { timeout: 10_000 });

    // What the fills were charged, worked out here from the fills the server stored.
    const mine = { Authorization: `Bearer ${await login(request, 'trader-costs')}` };
    const fills = (await (await request.get('/api/v1/fills?limit=100', { headers: mine })).json()).fills as {
      orderId: number;
      side: 'buy' | 'sell';
      qty: number;
      price: number;
    }[];
    const orders = new Set(fills.map((f) => f.orderId));
    expect(orders.size).toBe(2);
    const notional = (f: (typeof fills)[number]) => Math.round(f.price * f.qty * 100);
    const charged = 490 * orders.size + fills.reduce((s, f) => s + Math.round((notional(f) * 250) / 1e6), 0);
    const realized = fills.reduce((s, f) => s + (f.side === 'sell' ? 1 : -1) * notional(f), 0);

    const panel = trader.getByRole('region', { name: /^Positions/ });
    await expect(panel.getByTestId('costs-PETR4')).toHaveText(reais(charged));
    await expect(panel.getByTestId('gross-PETR4')).toHaveText(reais(realized));
    await expect(panel.getByTestId('net-PETR4')).toHaveText(reais(realized - charged));
    await expect(panel.getByTestId('costs-today')).toHaveText(reais(charged));
    await expect(panel.getByTestId('realized-today')).toHaveText(reais(realized));
    await expect(panel.getByTestId('net-today')).toHaveText(reais(realized - charged));
    await panel.screenshot({ path: testInfo.outputPath('positions-1440.png') });

    // Still so after a reload (the REST answer, not only the pushes).
    await trader.reload();
    await expect(panel.getByTestId('net-PETR4')).toHaveText(reais(realized - charged), { timeout: 15_000 });
    await expect(panel.getByTestId('net-today')).toHaveText(reais(realized - charged));
  } finally {
    await desk.close();
  }

  // On the phone: the same figures, in Portuguese, without sideways scrolling.
  const phone = await phoneContext(browser, baseURL, 'pt');
  try {
    const p = await phone.newPage();
    await signIn(p, 'trader-costs', undefined, 'pt');
    const panel = p.getByRole('region', { name: /^Posições/ });
    await expect(panel.getByText('Líquido do dia')).toBeVisible();
    await expect(panel.getByRole('columnheader', { name: 'Custos' })).toBeVisible();
    await expect(panel.getByTestId('net-today')).not.toHaveText('');
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await panel.screenshot({ path: testInfo.outputPath('positions-390.png') });
  } finally {
    await phone.close();
  }
});
