import { expect, test } from '@playwright/test';
import { login } from '../sync-server/testing/server.ts';
import { englishContext, PASSWORD, signIn } from './desk.ts';
import { type SimDesk, simDesk } from './simDesk.ts';

// The broker's view is the truth (issue 19), in a real Chromium on a desk whose server runs in
// this process (simDesk.ts): Profit itself sells on the trader's account (SimExternalTrade); the
// positions panel shows the broker's position, flagged, with Tape's own count in its title, and
// the blotter shows the other terminal's order marked external.

const PORT = Number(process.env.TAPE_E2E_PORT ?? 9101) + 4;
let desk: SimDesk;

test.beforeAll(async () => {
  desk = await simDesk(PORT, 'truthful');
  const token = await login(desk.url, 'truthful', PASSWORD);
  const r = await fetch(`${desk.url}/api/v1/orders`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ clientOrderId: 'mine-1', ticker: 'PETR4', side: 'buy', type: 'market', qty: 200 }),
  });
  expect(r.status).toBe(201);
});

test.afterAll(async () => {
  await desk?.close();
});

test('a trade made in another terminal: the broker’s position shown and flagged, the order marked external', async ({
  browser,
}, testInfo) => {
  const page = await (await englishContext(browser, desk.url)).newPage();
  await page.setViewportSize({ width: 1440, height: 900 });
  await signIn(page, 'truthful');
  const positions = page.getByRole('region', { name: 'Positions' });
  const qty = positions.getByTestId('position-PETR4');
  await expect(qty).toHaveText('200', { timeout: 10_000 });
  await expect(positions.getByTestId('outside-note')).toHaveCount(0);

  // Profit sells 500 on the same account.
  desk.sim().externalTrade({ brokerId: 1982, accountId: 'SIM-0001' }, 'PETR4', 'B', 'sell', 500, 38.5);
  await expect(qty).toHaveText('-300*', { timeout: 10_000 });
  await expect(qty).toHaveAttribute('title', /Tape counted 200/);
  await expect(positions.getByTestId('outside-note')).toContainText('includes trades made outside Tape');
  const blotter = page.getByRole('table', { name: /orders/i });
  await expect(blotter.getByTestId('external')).toHaveCount(1);
  await expect(blotter.locator('tr', { has: page.getByTestId('external') })).toContainText('500');
  await positions.screenshot({ path: testInfo.outputPath('positions-broker-1440.png') });
  await blotter.screenshot({ path: testInfo.outputPath('blotter-external-1440.png') });
  // On a phone the flag and the note fit the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await page
    .getByRole('navigation', { name: 'Screens' })
    .getByRole('button', { name: /Monitor/ })
    .click();
  await positions.getByTestId('outside-note').scrollIntoViewIfNeeded();
  const note = await positions.getByTestId('outside-note').boundingBox();
  expect((note?.x ?? 0) + (note?.width ?? 0)).toBeLessThanOrEqual(390);
  await positions.screenshot({ path: testInfo.outputPath('positions-broker-390.png') });
  await page.setViewportSize({ width: 1440, height: 900 });

  // Flatten closes the broker's position: a buy of 300, and the flag goes once both agree at 0.
  await positions.getByRole('button', { name: 'Flatten', exact: true }).click();
  const dialog = page.getByRole('alertdialog');
  await expect(dialog).toContainText('Buy 300 PETR4 at market');
  await dialog.getByRole('button', { name: /^Confirm/ }).click();
  await expect(qty).toHaveText(/^0\*?$/, { timeout: 10_000 });
});
