import { type CDPSession, expect, type Page, test } from '@playwright/test';
import { type PushReceiver, startPushReceiver } from '../sync-server/testing/pushReceiver.ts';
import { login } from '../sync-server/testing/server.ts';
import { englishContext, PASSWORD, signIn } from './desk.ts';
import { type SimDesk, simDesk } from './simDesk.ts';

// Price and order alerts in a real Chromium with the notifications permission, on a desk whose
// server runs in this process (simDesk.ts): an alert made on the Alerts screen above the last
// price fires when the simulator prints through it (SimInjectTrade), told in the app and, with
// Tape in the background, as a service-worker notification. With Tape closed, a fill reaches the
// device by Web Push: the server encrypts it to the device's subscription (the local receiver
// stands in for the browser vendor's push service and decrypts it), and the payload is delivered
// to the service worker through the DevTools protocol, which shows the notification.

const PORT = Number(process.env.TAPE_E2E_PORT ?? 9101) + 5;
let desk: SimDesk;
let receiver: PushReceiver;

test.beforeAll(async () => {
  receiver = await startPushReceiver();
  desk = await simDesk(PORT, 'alerter', { TAPE_PUSH_ALLOW_LOOPBACK: '1' });
});

test.afterAll(async () => {
  await desk?.close();
  await receiver?.close();
});

/** The notifications the origin's service worker is showing, by title. */
const shown = (page: Page) =>
  page.evaluate(async () => {
    const r = await navigator.serviceWorker.getRegistration('/');
    return ((await r?.getNotifications()) ?? []).map((n) => ({
      title: n.title,
      body: n.body,
      url: n.data?.url,
    }));
  });

/** The service worker's registration id, as the DevTools protocol names it. */
async function registrationId(cdp: CDPSession): Promise<string> {
  const found = new Promise<string>((resolve) =>
    cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => {
      const r = e.registrations.find((x) => x.scopeURL === `${desk.url}/` && !x.isDeleted);
      if (r) resolve(r.registrationId);
    }),
  );
  await cdp.send('ServiceWorker.enable');
  return found;
}

test('an alert above the last price fires in the app and as a notification; a fill reaches the closed app by Web Push', async ({
  browser,
}, testInfo) => {
  test.setTimeout(90_000);
  const context = await englishContext(browser, desk.url);
  await context.grantPermissions(['notifications'], { origin: desk.url });
  const page = await context.newPage();
  await page.setViewportSize({ width: 1440, height: 900 });
  await signIn(page, 'alerter');
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));

  // Made on the Alerts screen, above the last trade (38,50).
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Alerts' }).click();
  const form = page.getByRole('form', { name: 'New alert' });
  await form.getByLabel('Condition').selectOption('price_above');
  await form.getByLabel('Ticker').selectOption('PETR4');
  await form.getByLabel('Price', { exact: true }).fill('38,60');
  await form.getByRole('button', { name: 'Create alert' }).click();
  const row = page.locator('[data-alert]', { hasText: 'PETR4 above 38,60' });
  await expect(row).toBeVisible();
  await expect(row).toContainText(/active/i);
  // And one for the account's fills.
  await form.getByLabel('Condition').selectOption('order');
  await form.getByRole('checkbox', { name: 'filled', exact: true }).check();
  await form.getByRole('button', { name: 'Create alert' }).click();
  await expect(page.locator('[data-alert]')).toHaveCount(2);
  await page.screenshot({ path: testInfo.outputPath('alerts-1440.png') });

  // Tape goes to the background; the simulator prints through the level.
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await desk.print(38.55);
  await desk.print(38.62);
  await expect
    .poll(async () => (await shown(page)).map((n) => n.title), { timeout: 10_000 })
    .toContain('PETR4 acima de 38,60');
  expect((await shown(page)).find((n) => n.title === 'PETR4 acima de 38,60')?.url).toBe('/?ticker=PETR4');
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  // Told in the app, and kept in the history with the price that fired it; the one-shot is done.
  await expect(page.locator('[data-firing]').first()).toContainText('38,62');
  await expect(row).toContainText(/fired/i);
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Monitor' }).click();
  await expect(page.getByRole('region', { name: 'Alerts' })).toContainText('PETR4 rose to 38,60');

  // This device gets Web Push (a subscription of the local receiver's: Chromium here has no push service).
  const token = await login(desk.url, 'alerter', PASSWORD);
  const device = receiver.subscribe();
  const added = await fetch(`${desk.url}/api/v1/push/devices`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ subscription: device.subscription, label: 'Chromium e2e' }),
  });
  expect(added.status).toBe(201);

  // Tape closed: a page of the origin that is not the app stays to reach the service worker.
  const other = await context.newPage();
  await other.goto(`${desk.url}/manifest.webmanifest`);
  await page.close();
  await expect.poll(() => desk.t.server.alerts.online(userIdOf(token)), { timeout: 10_000 }).toBe(false);
  const before = receiver.received.length;
  const sent = await fetch(`${desk.url}/api/v1/orders`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      clientOrderId: 'alert-fill-1',
      ticker: 'PETR4',
      side: 'buy',
      type: 'market',
      qty: 100,
    }),
  });
  expect(sent.status).toBe(201);
  const [push] = (await receiver.waitFor(before + 1, 15_000)).slice(before);
  const payload = JSON.parse(push?.payload ?? '{}') as { title: string; url: string };
  expect(payload.title).toBe('Ordem executada: PETR4');
  expect(payload.url).toMatch(/^\/\?order=\d+$/);
  // What the push service would hand the browser: the decrypted payload, to the service worker.
  const cdp = await context.newCDPSession(other);
  await cdp.send('ServiceWorker.deliverPushMessage', {
    origin: desk.url,
    registrationId: await registrationId(cdp),
    data: push?.payload ?? '',
  });
  await expect
    .poll(async () => (await shown(other)).map((n) => n.title), { timeout: 10_000 })
    .toContain('Ordem executada: PETR4');
  expect((await shown(other)).find((n) => n.title === 'Ordem executada: PETR4')?.url).toBe(payload.url);
  await context.close();
});

/** The user id in an access token (its `sub`). */
function userIdOf(token: string): number {
  const [, body] = token.split('.');
  return Number((JSON.parse(Buffer.from(body ?? '', 'base64url').toString()) as { sub: string }).sub);
}
