import { type Browser, expect, type Page, test } from '@playwright/test';
import { E2E_ADMIN_PASSWORD } from '../playwright.config.ts';
import { englishContext, ensureUser, signIn } from './desk.ts';

// An admin acts on a user who is signed in elsewhere (issue 16): the server closes that user's
// sockets with 4401 and a reason, and the user's app follows within a second: signed out with
// the reason said, or, for a role change, still signed in with the new role.

const SIGNED_OUT_WITHIN_MS = 1_000;

async function signedInAs(browser: Browser, username: string): Promise<Page> {
  const page = await (await englishContext(browser, test.info().project.use.baseURL as string)).newPage();
  await signIn(page, username);
  return page;
}

async function usersScreen(page: Page) {
  await signIn(page, 'admin', E2E_ADMIN_PASSWORD);
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Admin' }).click();
  await page.getByRole('navigation', { name: 'Admin' }).getByRole('button', { name: 'Users' }).click();
  return page.getByRole('region', { name: 'Users' });
}

/** Clicks `action` on the user's row; the time the server answered. */
async function act(page: Page, username: string, action: string): Promise<number> {
  const answered = page.waitForResponse((r) => /\/api\/v1\/users\/\d+(\/sign-out)?$/.test(r.url()) && r.ok());
  await page.locator(`tr[data-user="${username}"]`).getByRole('button', { name: action }).click();
  await answered;
  return Date.now();
}

test('a trader the admin disables is signed out within a second, and told why', async ({
  browser,
  page,
  request,
}) => {
  await ensureUser(request, 'disabled.trader', 'trader', 'E2E-DIS');
  const trader = await signedInAs(browser, 'disabled.trader');
  await usersScreen(page);

  const at = await act(page, 'disabled.trader', 'Disable');
  await expect(trader.getByRole('form', { name: 'Sign in' }).getByRole('status')).toHaveText(
    'Your account was disabled by an admin',
    {
      timeout: SIGNED_OUT_WITHIN_MS,
    },
  );
  const took = Date.now() - at;
  await expect(trader.getByRole('button', { name: 'Sign in' })).toBeVisible();
  test.info().annotations.push({ type: 'signed out after the disable', description: `${took} ms` });
  await expect(page.locator('tr[data-user="disabled.trader"]')).toContainText('disabled');

  // A sign-in is refused with the server's reason; enabled again, it works.
  await trader.getByLabel('Username').fill('disabled.trader');
  await trader.getByLabel('Password').fill('e2e-user-password');
  await trader.getByRole('button', { name: 'Sign in' }).click();
  await expect(trader.getByRole('alert')).toBeVisible();
  await act(page, 'disabled.trader', 'Enable');
  await signIn(trader, 'disabled.trader');
});

test('"Sign out everywhere" signs the trader out at once; a role change keeps it signed in', async ({
  browser,
  page,
  request,
}) => {
  await ensureUser(request, 'moved.trader', 'trader', 'E2E-MOV');
  const trader = await signedInAs(browser, 'moved.trader');
  const users = await usersScreen(page);

  // Demoted to viewer: the session is renewed with the new role, still live, on a new market
  // socket. (Until the page has read the old socket's close, which can wait behind the market
  // data still buffered for it, "Live" is the old socket's, and a sign-out then finds no socket
  // of this user open to close: the page hears of it at its next request instead.)
  const changed = page.waitForResponse((r) => /\/api\/v1\/users\/\d+$/.test(r.url()) && r.ok());
  const reconnected = trader.waitForEvent('websocket', (ws) => new URL(ws.url()).pathname === '/ws');
  await users.getByLabel('Role of moved.trader').selectOption('viewer');
  await changed;
  await expect(trader.locator('.topbar .user')).toHaveText('moved.trader · viewer', { timeout: 5_000 });
  await reconnected;
  await expect(trader.getByTestId('connection')).toHaveText('Live', { timeout: 10_000 });

  const at = await act(page, 'moved.trader', 'Sign out everywhere');
  await expect(trader.getByRole('form', { name: 'Sign in' }).getByRole('status')).toHaveText(
    'You were signed out by an admin',
    {
      timeout: SIGNED_OUT_WITHIN_MS,
    },
  );
  test
    .info()
    .annotations.push({ type: 'signed out after sign out everywhere', description: `${Date.now() - at} ms` });
});

test('the last admin cannot be demoted: the server’s reason is shown', async ({ page }) => {
  const users = await usersScreen(page);
  await users.getByLabel('Role of admin').selectOption('trader');
  await expect(page.getByRole('alert')).toContainText('Not changed: admin:');
  await expect(users.getByLabel('Role of admin')).toHaveValue('admin');
});
