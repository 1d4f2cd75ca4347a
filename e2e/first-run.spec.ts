import { expect, type Page, test } from '@playwright/test';
import { ADMIN_PASSWORD } from '../sync-server/testing/server.ts';
import { englishContext, signIn } from './desk.ts';
import { ownServer } from './ownServer.ts';

// The first run on a fresh install (issue 16), all through the screens: the admin imports the
// simulator's two accounts, takes one, creates a trader on the Users screen and gives it the other;
// the trader signs in and buys. No REST call of the test's own: the server's data directory is
// new, and the admin's password is the one it is started with (TAPE_ADMIN_PASSWORD).

const FIRST_RUN_BUDGET_MS = 120_000;

test.describe.configure({ timeout: 180_000 });

const server = ownServer(1002);
test.afterEach(() => server.stop());

const nav = (page: Page) => page.getByRole('navigation', { name: 'Screens' });

test('from a fresh install to a trader’s first fill through the screens, in under 2 minutes', async ({
  browser,
}) => {
  const started = Date.now();
  await server.start();
  const admin = await (await englishContext(browser, server.url)).newPage();
  await admin.goto('/');
  await admin.getByLabel('Username').fill('admin');
  await admin.getByLabel('Password').fill(ADMIN_PASSWORD);
  await admin.getByRole('button', { name: 'Sign in' }).click();

  // Step 1: the accounts the DLL reports once routing is up (the screen asks every 2 s till then).
  const firstRun = admin.getByRole('region', { name: 'Set up trading' });
  await expect(firstRun).toBeVisible({ timeout: 15_000 });
  await expect(nav(admin)).toHaveCount(0);
  const reported = firstRun.getByRole('list', { name: 'Accounts the broker reports' });
  await expect(reported.getByRole('checkbox')).toHaveCount(2, { timeout: 30_000 });
  await expect(reported).toContainText('SIM-0001');
  await expect(reported).toContainText('Corretora Simulada');
  await expect(reported).toContainText('SIM-0002');
  await expect(reported).toContainText('Clear Simulada');
  await firstRun.getByRole('button', { name: 'Import 2 accounts' }).click();

  // Step 2: the admin's own account; then the Trade screen.
  await expect(firstRun.getByText('Step 2')).toBeVisible();
  await firstRun.getByRole('radio', { name: /SIM-0001/ }).check();
  await firstRun.getByRole('button', { name: 'Finish and go to Trade' }).click();
  await expect(nav(admin).getByRole('button', { name: 'Trade' })).toHaveAttribute('aria-current', 'page');
  await expect(admin.getByRole('region', { name: 'Order ticket' })).toBeVisible();
  // Never again: a reload opens the screens.
  await admin.reload();
  await expect(nav(admin)).toBeVisible({ timeout: 15_000 });
  await expect(firstRun).toHaveCount(0);

  // A trader made on the Users screen, with a generated password shown once, trading SIM-0002.
  await nav(admin).getByRole('button', { name: 'Admin' }).click();
  const users = admin.getByRole('region', { name: 'Users' });
  await users.getByLabel('Username').fill('first.trader');
  await users.getByRole('button', { name: 'Create user' }).click();
  const password = (await admin.getByTestId('once-password').textContent()) ?? '';
  expect(password.length).toBeGreaterThanOrEqual(10);
  const row = users.locator('tr[data-user="first.trader"]');
  await expect(row.getByLabel('Role of first.trader')).toHaveValue('trader');
  await row.getByLabel('Trading account of first.trader').selectOption('SIM-0002');
  await expect(row.getByLabel('Trading account of first.trader')).toHaveValue('SIM-0002');
  await admin.getByRole('navigation', { name: 'Admin' }).getByRole('button', { name: 'Accounts' }).click();
  const accounts = admin.getByRole('table', { name: 'Trading accounts' });
  await expect(accounts.locator('tr[data-account="SIM-0001"]')).toContainText('admin');
  await expect(accounts.locator('tr[data-account="SIM-0002"]')).toContainText('first.trader');

  // The trader signs in, buys 100 PETR4 at market and sees the fill and the position.
  const trader = await (await englishContext(browser, server.url)).newPage();
  await signIn(trader, 'first.trader', password);
  await trader.getByRole('region', { name: 'Quotes' }).locator('tr[data-ticker="PETR4"]').click();
  const ticket = trader.getByRole('region', { name: 'Order ticket' });
  await expect(ticket.getByRole('combobox', { name: 'Ticker' })).toHaveValue('PETR4');
  await ticket.getByRole('button', { name: 'Market' }).click();
  await expect(ticket.getByLabel(/Quantity/)).toHaveValue('100');
  await ticket.getByRole('button', { name: /^Buy 100 PETR4/ }).click();
  const order = trader.getByRole('table', { name: 'Working and past orders' }).locator('tbody tr').first();
  await expect(order).toContainText('filled', { timeout: 10_000 });
  await expect(order).toContainText('100 @');
  await expect(trader.getByTestId('position-PETR4')).toHaveText('100', { timeout: 10_000 });

  const took = Date.now() - started;
  test.info().annotations.push({ type: 'fresh install to first fill', description: `${took} ms` });
  expect(took).toBeLessThan(FIRST_RUN_BUDGET_MS);
});
