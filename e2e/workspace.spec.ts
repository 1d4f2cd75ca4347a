import { expect, type Page, test } from '@playwright/test';
import { ensureUser, signIn } from './desk.ts';

// The Trade screen as each trader arranges it, kept per user on the device (app/workspace/).

/** Which panels each column holds, in order, as the page shows them. */
const layout = (page: Page) =>
  page.evaluate(() =>
    [...document.querySelectorAll('[data-testid="trade-workspace"] .ws-column')].map((c) =>
      [...c.querySelectorAll(':scope > .ws-panel')].map((p) => (p as HTMLElement).dataset.panel),
    ),
  );

test('a trader arranges the Trade screen; it is kept for them on this device, not for another user', async ({
  page,
}, testInfo) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await ensureUser(page.request, 'ws-trader-a', 'trader');
  await ensureUser(page.request, 'ws-trader-b', 'trader');
  await signIn(page, 'ws-trader-a');
  const before = await layout(page);
  expect(before[0]).toEqual(['quotes', 'flow', 'positions']);
  expect(before[1]).toEqual(['chart', 'tape', 'blotter']);

  await page.getByRole('button', { name: 'Arrange panels' }).click();
  await page.getByRole('button', { name: 'Hide Broker flow' }).click();
  await page.getByRole('button', { name: 'Move right Chart' }).click();
  // It lands at the same place in the right column: the top.
  await expect(page.getByRole('button', { name: 'Move up Chart' })).toBeDisabled();
  const column = page.locator('.ws-column[data-column="0"]');
  const w0 = (await column.boundingBox())?.width ?? 0;
  await page.getByRole('button', { name: 'Wider column 1' }).click();
  await expect.poll(async () => (await column.boundingBox())?.width ?? 0).toBeGreaterThan(w0 + 20);
  const chart = page.locator('.ws-panel[data-panel="chart"]');
  const h0 = (await chart.boundingBox())?.height ?? 0;
  await page.getByRole('button', { name: 'Taller Chart' }).click();
  await expect.poll(async () => (await chart.boundingBox())?.height ?? 0).toBeGreaterThan(h0 + 60);
  await page.getByRole('button', { name: 'Done arranging' }).click();
  const arranged = await layout(page);
  expect(arranged[0]).toEqual(['quotes', 'positions']);
  expect(arranged[1]).toEqual(['tape', 'blotter']);
  expect(arranged[2]?.[0]).toBe('chart');
  await expect(page.getByRole('region', { name: /^Broker flow/ })).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath('workspace-arranged.png') });

  // Kept across a reload, heights and widths too.
  const height = (await chart.boundingBox())?.height;
  await page.reload();
  await expect(page.getByTestId('connection')).toHaveText('Live', { timeout: 15_000 });
  await expect.poll(() => layout(page)).toEqual(arranged);
  expect(Math.abs(((await chart.boundingBox())?.height ?? 0) - (height ?? 0))).toBeLessThan(2);

  // Another trader on the same device has Tape's layout.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, 'ws-trader-b');
  expect((await layout(page))[0]).toEqual(['quotes', 'flow', 'positions']);
  await page.getByRole('button', { name: 'Sign out' }).click();

  // Back to the first one: theirs again; "Tape's layout" puts everything back.
  await signIn(page, 'ws-trader-a');
  await expect.poll(() => layout(page)).toEqual(arranged);
  await page.getByRole('button', { name: 'Arrange panels' }).click();
  await expect(page.getByRole('button', { name: 'Show Broker flow' })).toBeVisible();
  await page.getByRole('button', { name: "Tape's layout" }).click();
  await expect.poll(async () => (await layout(page))[0]).toEqual(['quotes', 'flow', 'positions']);
});
