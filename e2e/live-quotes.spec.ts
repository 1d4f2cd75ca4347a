import { expect, test } from '@playwright/test';
import { E2E_ADMIN_PASSWORD } from '../playwright.config.ts';
import { signIn } from './desk.ts';

test('a trader signs in and watches PETR4 change live', async ({ page }, testInfo) => {
  await signIn(page, 'admin', E2E_ADMIN_PASSWORD);
  const last = page.getByTestId('last-PETR4');
  await expect(last).toBeVisible({ timeout: 10_000 });

  // Sample the displayed price for 5 s: it must change at least twice.
  const seen: string[] = [(await last.textContent()) ?? ''];
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    await page.waitForTimeout(100);
    const now = (await last.textContent()) ?? '';
    if (now !== seen[seen.length - 1]) seen.push(now);
  }
  expect(seen.length - 1, `prices seen: ${seen.join(' → ')}`).toBeGreaterThanOrEqual(2);
  for (const p of seen) expect(p).toMatch(/^\d{1,3}(\.\d{3})*,\d{2}$/);

  const shot = testInfo.outputPath('live-quotes.png');
  await page.screenshot({ path: shot, fullPage: true });
  await testInfo.attach('live-quotes', { path: shot, contentType: 'image/png' });
});

test('a wrong password is refused with a clear message', async ({ page }) => {
  await page.goto('/');
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Wrong username or password');
});

test('the Monitor board quotes as B3 does: bid and ask with sizes, previous close, change against it', async ({
  page,
}, testInfo) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await signIn(page, 'admin', E2E_ADMIN_PASSWORD);
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Monitor' }).click();
  const row = page.locator('.quotes-panel.full tr[data-ticker="PETR4"]');
  const cell = (col: string) => row.locator(`td[data-col="${col}"]`);
  await expect(cell('Bid')).toHaveText(/^\d+,\d{2}\d/, { timeout: 10_000 });
  const num = (s: string) => Number(s.replace(/\./g, '').replace(',', '.'));
  // The simulator's previous close of PETR4 is its reference price.
  await expect(cell('Prev. close')).toHaveText('38,50');
  // Read the row in one go, so last and change are of the same render.
  const read = () =>
    row.evaluate((tr) =>
      Object.fromEntries(
        [...tr.querySelectorAll('td')].map((td) => [
          td.dataset.col,
          [td.childNodes[0]?.textContent ?? '', td.querySelector('.size')?.textContent ?? ''],
        ]),
      ),
    );
  const r = await read();
  const last = num(r.Last[0]);
  const change = num(r['Chg %'][0].replace('%', '').replace('+', ''));
  expect(change).toBeCloseTo(((last - 38.5) / 38.5) * 100, 1);
  const bid = num(r.Bid[0]);
  const ask = num(r.Ask[0]);
  expect(bid).toBeLessThan(ask);
  // Sizes are round lots of 100, in pt-BR thousands.
  for (const side of [r.Bid[1], r.Ask[1]]) expect(num(side) % 100).toBe(0);
  expect(r['Fin. vol.'][0]).toMatch(/^R\$\s[\d.,]+(\s(mil|mi|bi))?$/);
  // Every column fits the board at 1440 px: the Time column is not cut.
  const box = await page.locator('.quotes-panel.full').boundingBox();
  const time = await cell('Time').boundingBox();
  expect(time && box && time.x + time.width <= box.x + box.width).toBe(true);
  const shot = testInfo.outputPath('monitor-board.png');
  await page.screenshot({ path: shot });
  await testInfo.attach('monitor-board', { path: shot, contentType: 'image/png' });
});
