import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, expect, test } from '@playwright/test';
import { inEnglish } from './lang.ts';

test('the app is installable and its service worker takes control', async ({ baseURL }, testInfo) => {
  // Install criteria are judged in a normal profile: Playwright's default contexts are incognito.
  const launch = testInfo.project.use.launchOptions ?? {};
  const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'tape-pwa-')), {
    executablePath: launch.executablePath,
    args: launch.args,
    baseURL,
  });
  await inEnglish(context);
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto('/');
    await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
    await expect
      .poll(() => page.evaluate(async () => (await navigator.serviceWorker.ready).active?.state), {
        timeout: 10_000,
      })
      .toBe('activated');
    const manifest = await (await page.request.get('/manifest.webmanifest')).json();
    expect(manifest).toMatchObject({
      name: expect.stringContaining('Tape'),
      display: 'standalone',
      start_url: '/',
    });
    // Chromium's own verdict on the install criteria.
    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    expect(installabilityErrors).toEqual([]);
    await page.screenshot({ path: testInfo.outputPath('login.png') });
  } finally {
    await context.close();
  }
});

test('the app shell loads offline once installed', async ({ page, context }) => {
  await page.goto('/');
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.reload(); // now controlled by the worker
  await context.setOffline(true);
  await page.reload();
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await context.setOffline(false);
});
