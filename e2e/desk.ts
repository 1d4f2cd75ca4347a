import { type APIRequestContext, type Browser, expect, type Page } from '@playwright/test';
import { E2E_ADMIN_PASSWORD } from '../playwright.config.ts';
import { type Lang, langState, WORDS } from './lang.ts';

// The e2e desk: users and trading accounts made through the real REST API, as an admin would.

export const PASSWORD = 'e2e-user-password';

/** An access token for `username`, through the login route. */
export async function login(
  request: APIRequestContext,
  username: string,
  password = PASSWORD,
): Promise<string> {
  const res = await request.post('/api/v1/auth/login', { data: { username, password } });
  expect(res.status(), `login ${username}`).toBe(200);
  return (await res.json()).accessToken as string;
}

const adminToken = (request: APIRequestContext) => login(request, 'admin', E2E_ADMIN_PASSWORD);

/** Creates (or reuses) a user with `role`, trading `account` when given. */
export async function ensureUser(
  request: APIRequestContext,
  username: string,
  role: 'admin' | 'trader' | 'viewer',
  account?: string,
): Promise<void> {
  const headers = { Authorization: `Bearer ${await adminToken(request)}` };
  const created = await request.post('/api/v1/users', {
    headers,
    data: { username, password: PASSWORD, role },
  });
  const users = (await (await request.get('/api/v1/users', { headers })).json()).users as {
    userId: number;
    username: string;
    role: string;
    disabled: boolean;
  }[];
  const user = users.find((u) => u.username === username);
  expect(created.status() === 201 || user !== undefined).toBe(true);
  // A user an earlier run (or a repeat of the same spec) changed is put back as asked.
  if (user && (user.role !== role || user.disabled)) {
    const reset = await request.patch(`/api/v1/users/${user.userId}`, {
      headers,
      data: { role, disabled: false },
    });
    expect(reset.ok()).toBe(true);
  }
  if (!account) return;
  const accountRes = await request.post('/api/v1/accounts', {
    headers,
    data: { id: account, brokerId: 1, name: account },
  });
  expect(accountRes.ok()).toBe(true);
  const id = users.find((u) => u.username === username)?.userId;
  const assigned = await request.put(`/api/v1/users/${id}/account`, {
    headers,
    data: { accountId: account },
  });
  expect(assigned.ok()).toBe(true);
}

/**
 * The first run finished through REST, with no own account: setup on the desk is the REST calls
 * above (accounts made with POST /api/v1/accounts on a running install do not count as set up),
 * so an admin signing in in the browser opens the screens, not the first run (first-run.spec.ts).
 */
export async function finishSetup(request: APIRequestContext, password = E2E_ADMIN_PASSWORD): Promise<void> {
  const headers = { Authorization: `Bearer ${await login(request, 'admin', password)}` };
  const res = await request.post('/api/v1/setup/done', { headers, data: { ownAccount: null } });
  // 409 setup_done: an earlier spec on this server finished it.
  expect([200, 409], await res.text()).toContain(res.status());
}

/**
 * Signs in through the sign-in form, in the language the page's context was opened in; `admin`
 * past the first run (finishSetup).
 */
export async function signIn(page: Page, username: string, password = PASSWORD, lang: Lang = 'en') {
  const w = WORDS[lang];
  if (username === 'admin') await finishSetup(page.request, password);
  await page.goto('/');
  await page.getByLabel(w['login.username']).fill(username);
  await page.getByLabel(w['login.password']).fill(password);
  await page.getByRole('button', { name: w['login.signIn'] }).click();
  await expect(page.getByTestId('connection')).toHaveText(w['conn.live'], { timeout: 15_000 });
}

/** A browser context in English (tape.lang) for `baseURL`, as the config's own contexts are. */
export const englishContext = (browser: Browser, baseURL: string) =>
  browser.newContext({ baseURL, storageState: langState(baseURL) });

/** A phone's browser context (390×844, touch), as a trader's phone opens Tape. Close it after. */
export const PHONE = { width: 390, height: 844 } as const;
export const phoneContext = (browser: Browser, baseURL: string | undefined, lang: Lang = 'en') =>
  browser.newContext({
    baseURL,
    viewport: PHONE,
    isMobile: true,
    hasTouch: true,
    storageState: langState(baseURL as string, lang),
  });
