import { expect, test } from '@playwright/test';
import { ensureUser, signIn } from './desk.ts';

// The assistant in embedded mode (no LLM): a question about Tape's own docs gets an extractive,
// cited answer streamed to the screen; a citation opens its source; the answer is kept offline.

test('the assistant answers from the docs with citations, and keeps the answer for offline', async ({
  page,
  context,
  request,
}, testInfo) => {
  await ensureUser(request, 'asker', 'viewer');
  await signIn(page, 'asker');
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Assistant' }).click();
  const screen = page.getByRole('region', { name: 'Assistant' });
  await expect(screen.locator('.as-status')).toContainText('documents indexed', { timeout: 20_000 });
  const question = 'What happens to an order I enter while offline?';
  await screen.getByLabel("Ask about the desk's documents").fill(question);
  await screen.getByRole('button', { name: 'Ask' }).click();
  await expect(screen.getByText('Extractive', { exact: true })).toBeVisible({ timeout: 15_000 });
  const sources = screen.getByRole('list', { name: 'Sources' });
  await expect(sources.getByRole('listitem').first()).toBeVisible();
  await expect(sources).toContainText('user-guide.md');
  await sources.getByRole('button').first().click();
  await expect(page.getByRole('complementary', { name: 'Source' })).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('assistant.png'), fullPage: true });

  // Offline, the same question shows the answer kept on this device, with its age.
  await context.setOffline(true);
  await page.getByRole('button', { name: 'Close the source' }).click();
  await screen.getByLabel("Ask about the desk's documents").fill(question);
  await screen.getByRole('button', { name: 'Ask' }).click();
  await expect(screen).toContainText(/saved|kept|offline/i);
  await expect(sources).toContainText('user-guide.md');
  await context.setOffline(false);
});
