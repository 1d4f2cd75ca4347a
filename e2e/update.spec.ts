import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, expect, test } from '@playwright/test';
import { inEnglish } from './lang.ts';

// A new version is offered, never forced: when the service worker script changes, the app shows
// "update available" and reloads into the new version only when the trader says so. The app is
// served through a small proxy that can play "the next deploy" (a changed sw.js).

test('a new version waits for the trader to accept it', async ({ baseURL }, testInfo) => {
  let nextDeploy = false;
  const proxy = createServer(async (req, res) => {
    const upstream = await fetch(new URL(req.url ?? '/', baseURL), {
      headers: { accept: req.headers.accept ?? '*/*' },
    });
    let body = Buffer.from(await upstream.arrayBuffer());
    if (nextDeploy && req.url?.startsWith('/sw.js'))
      body = Buffer.concat([body, Buffer.from('\n// next version\n')]);
    res.writeHead(upstream.status, {
      'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream',
      'cache-control': 'no-cache',
    });
    res.end(body);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const launch = testInfo.project.use.launchOptions ?? {};
  const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'tape-update-')), {
    executablePath: launch.executablePath,
    args: launch.args,
    baseURL: origin,
  });
  await inEnglish(context);
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto('/');
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.reload(); // now controlled by the worker, as every later visit is
    const banner = page.getByRole('status').filter({ hasText: 'A new version of Tape is available' });
    await expect(banner).toHaveCount(0);
    nextDeploy = true;
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update());
    await expect(banner).toBeVisible({ timeout: 15_000 });
    // Nothing reloads by itself: the old version keeps running until the trader accepts.
    const before = await page.evaluate(() => performance.timeOrigin);
    await page.waitForTimeout(1_000);
    expect(await page.evaluate(() => performance.timeOrigin)).toBe(before);
    await page.screenshot({ path: testInfo.outputPath('update-available.png') });
    const reloaded = page.waitForEvent('load', { timeout: 15_000 });
    await banner.getByRole('button', { name: 'Update now' }).click();
    await reloaded;
    expect(await page.evaluate(() => performance.timeOrigin)).not.toBe(before);
    await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
    await expect(banner).toHaveCount(0);
  } finally {
    await context.close();
    proxy.close();
  }
});
