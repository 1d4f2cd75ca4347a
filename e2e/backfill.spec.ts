import { expect, test } from '@playwright/test';
import { E2E_ADMIN_PASSWORD } from '../playwright.config.ts';
import { signIn } from './desk.ts';

// The server filled each ticker's session so far before it went live (market/backfill.ts): the
// app was told, and each ticker's bar reached 100 % and says live.

test("each ticker's history backfill reached 100 % and the ticker is live", async ({ page }) => {
  await signIn(page, 'admin', E2E_ADMIN_PASSWORD);
  for (const ticker of ['PETR4', 'VALE3', 'ITUB4', 'BBDC4', 'WINZ25', 'WDOZ25']) {
    const bar = page.getByTestId(`backfill-${ticker}`);
    await expect(bar).toHaveAttribute('aria-valuenow', '100', { timeout: 30_000 });
    await expect(bar).toHaveAttribute('data-state', 'live');
  }
});
