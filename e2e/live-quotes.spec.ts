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
