import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import type { NewDeadLetter } from '../sync-server/deadLetters/queue.ts';
import { ADMIN_PASSWORD } from '../sync-server/testing/server.ts';
import { englishContext, signIn } from './desk.ts';
import { ownServer } from './ownServer.ts';

// The operator's side of dead letters (issue 16): letters a crashed run left in the spill file
// move into the table at start; the admin sees them counted in the nav badge, redrives them from
// the screen (one comes back redriven, one refused again with its reason), and the audit screen
// shows the redrives next to a user the admin disabled.

test.describe.configure({ timeout: 120_000 });

const server = ownServer(1003);
test.afterAll(() => server.stop());

const DAY = 86_400_000;
const yesterday = Date.now() - DAY;
/** A stored batch the database did not take: written again, it goes in. */
const batch: NewDeadLetter = {
  source: 'store.ticks',
  reason: 'write_timeout',
  detail: 'the database did not answer in 5 s',
  payload: {
    trades: [
      {
        ticker: 'PETR4',
        seq: 1,
        time: yesterday,
        price: 38.5,
        qty: 100,
        tradeNumber: 1,
        buyAgent: 3,
        sellAgent: 85,
        tradeType: 2,
        flags: 0,
        capturedAt: yesterday,
      },
    ],
  },
};
/** A trade the DLL sent off the tick grid: checked again, it is refused again. */
const offGrid: NewDeadLetter = {
  source: 'profitdll.trade',
  reason: 'price_off_tick_grid',
  detail: 'price 38.505 is not a multiple of the tick 0.01',
  payload: {
    kind: 'trade',
    ticker: 'PETR4',
    exchange: 'B',
    feed: 0,
    date: '02/12/2026 14:00:00.000',
    tradeNumber: 77,
    price: 38.505,
    volume: 3850.5,
    qty: 100,
    buyAgent: 3,
    sellAgent: 85,
    tradeType: 2,
    isEdit: false,
    history: false,
    truncated: 0,
    capturedAtNs: '0',
  },
};

const nav = (page: Page) => page.getByRole('navigation', { name: 'Screens' });
const adminNav = (page: Page) => page.getByRole('navigation', { name: 'Admin' });

test('letters left in the spill file are counted, redriven from the screen, and audited', async ({
  browser,
}) => {
  writeFileSync(
    join(server.dataDir, 'dead-letters.spill.ndjson'),
    `${JSON.stringify(batch)}\n${JSON.stringify(offGrid)}\n`,
  );
  await server.start();
  const admin = await (await englishContext(browser, server.url)).newPage();
  await signIn(admin, 'admin', ADMIN_PASSWORD);

  await expect(admin.getByTestId('admin-badge')).toHaveText('2', { timeout: 15_000 });
  await nav(admin).getByRole('button', { name: 'Admin' }).click();

  // A trader the admin disables, so the audit has a user change to show as well.
  const users = admin.getByRole('region', { name: 'Users' });
  await users.getByLabel('Username').fill('letters.trader');
  await users.getByRole('button', { name: 'Create user' }).click();
  const row = users.locator('tr[data-user="letters.trader"]');
  await row.getByRole('button', { name: 'Disable' }).click();
  await expect(row).toContainText('disabled');

  await adminNav(admin).getByRole('button', { name: 'Dead letters' }).click();
  const letters = admin.getByRole('table', { name: 'Dead letters' });
  await expect(letters.locator('tbody tr')).toHaveCount(2, { timeout: 10_000 });
  const counts = admin.getByRole('list', { name: 'Open letters per reason' });
  await expect(counts).toContainText('write_timeout');
  await expect(counts).toContainText('price_off_tick_grid');

  // The raw payload, as stored.
  const refused = letters.locator('tr', { hasText: 'price_off_tick_grid' });
  await refused.getByRole('button', { name: 'Payload' }).click();
  await expect(admin.getByText('38.505').first()).toBeVisible();

  await admin.getByLabel('Select every open letter shown').check();
  await admin.getByRole('button', { name: /Redrive selected/ }).click();
  await expect(letters.locator('tr', { hasText: 'write_timeout' }).getByRole('status')).toHaveText(
    'Redriven: resolved',
  );
  await expect(refused.getByRole('status')).toContainText('Refused again (price_off_tick_grid)');
  await expect(admin.getByTestId('admin-badge')).toHaveText('1', { timeout: 15_000 });

  await adminNav(admin).getByRole('button', { name: 'Audit' }).click();
  const audit = admin.getByRole('table', { name: 'Audit trail' });
  await expect(audit.locator('tr', { hasText: 'dead_letter.redrive' })).toHaveCount(2);
  await expect(audit.locator('tr', { hasText: 'user.disable' })).toHaveCount(1);
  await expect(audit.locator('tr', { hasText: 'user.disable' })).toContainText('admin');
});
