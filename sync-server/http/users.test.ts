import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { UserJson, UserWithPassword } from '../shared/admin.ts';
import {
  ADMIN_PASSWORD,
  backends,
  createWatchlist,
  login,
  startTestServer,
  type TestServer,
} from '../testing/server.ts';
import { rawYjsSocket } from '../testing/sockets.ts';

// The user-admin routes over a real server (issue 16): who may call them, what each refuses
// (a taken or bad username, a weak password, the last admin), and what a disable or a sign-out
// does at once: refresh tokens and access tokens refused, the user's /ws and /yjs sockets
// closed with 4401 and the reason.

const PASSWORD = 'users-route-password';

/** The promise's value, or a failure naming `what` once `ms` have passed. */
const within = <T>(ms: number, what: string, p: Promise<T>) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms),
    ),
  ]);

interface Answer {
  status: number;
  body: Record<string, unknown> & { error?: string; message?: string };
}

describe.each(backends())('user admin routes (%s)', (backend) => {
  let t: TestServer;
  let root: string;
  let rootId: number;

  const call = async (
    token: string | undefined,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<Answer> => {
    const res = await fetch(`${t.url}${path}`, {
      method,
      headers: {
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as Answer['body'] };
  };
  const signIn = (username: string, password = PASSWORD) =>
    call(undefined, 'POST', '/api/v1/auth/login', { username, password });
  const create = async (username: string, role: 'admin' | 'trader' | 'viewer') => {
    const r = await call(root, 'POST', '/api/v1/users', { username, role, password: PASSWORD });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return (r.body as unknown as UserWithPassword).user.userId;
  };
  /** A /ws socket, open once the hello arrived, and how it closed. */
  const marketSocket = async (token: string) => {
    const ws = new WebSocket(`${t.wsUrl}?token=${token}`);
    const closed = new Promise<{ code: number; reason: string; at: number }>((r) =>
      ws.on('close', (code, reason) => r({ code, reason: String(reason), at: Date.now() })),
    );
    await new Promise((r, reject) => {
      ws.once('message', r);
      ws.once('error', reject);
    });
    return { ws, closed };
  };

  beforeAll(async () => {
    t = await startTestServer(backend);
    root = await login(t.url);
    rootId = ((await call(root, 'GET', '/api/v1/me')).body.user as { userId: number }).userId;
  }, 60_000);
  afterAll(() => t?.close());

  it('serves each user route to admins only', async () => {
    await create('rr-trader', 'trader');
    await create('rr-viewer', 'viewer');
    const target = await create('rr-target', 'viewer');
    const routes = [
      ['GET', '/api/v1/users', undefined],
      ['POST', '/api/v1/users', { username: 'rr-new', role: 'viewer' }],
      ['PATCH', `/api/v1/users/${target}`, { role: 'trader' }],
      ['POST', `/api/v1/users/${target}/password`, {}],
      ['POST', `/api/v1/users/${target}/sign-out`, undefined],
    ] as const;
    for (const name of ['rr-trader', 'rr-viewer']) {
      const token = (await signIn(name)).body.accessToken as string;
      for (const [method, path, body] of routes) {
        const r = await call(token, method, path, body);
        expect(r.status, `${method} ${path} as ${name}`).toBe(403);
        expect(r.body.message).toMatch(/needs the role/);
      }
    }
    for (const [method, path, body] of routes) {
      const r = await call(undefined, method, path, body);
      expect(r.status, `${method} ${path} with no token`).toBe(401);
    }
    for (const [method, path, body] of routes) {
      const r = await call(root, method, path, body);
      expect([200, 201], `${method} ${path} as admin: ${JSON.stringify(r.body)}`).toContain(r.status);
    }
    for (const [method, path, body] of routes.slice(2)) {
      const r = await call(root, method, path.replace(String(target), '999999'), body);
      expect(r.status, `${method} ${path} of no user`).toBe(404);
      expect(r.body).toMatchObject({ error: 'not_found' });
    }
  });

  it('creates users: a generated password once, a typed one checked, names unique and valid', async () => {
    const made = await call(root, 'POST', '/api/v1/users', { username: 'nina', role: 'trader' });
    expect(made.status).toBe(201);
    const { user, password } = made.body as unknown as UserWithPassword;
    expect(password).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(user).toEqual({
      userId: expect.any(Number),
      username: 'nina',
      role: 'trader',
      accountId: null,
      disabled: false,
      createdAt: expect.any(String),
      lastLoginAt: null,
    });
    expect((await signIn('nina', password)).status).toBe(200);
    const listed = ((await call(root, 'GET', '/api/v1/users')).body.users as UserJson[]).find(
      (u) => u.username === 'nina',
    );
    expect(listed?.lastLoginAt).toEqual(expect.any(String));
    expect(Object.keys(listed ?? {}).sort()).toEqual(Object.keys(user).sort());

    const typed = await call(root, 'POST', '/api/v1/users', {
      username: 'otto',
      role: 'viewer',
      password: PASSWORD,
    });
    expect(typed.status).toBe(201);
    expect(typed.body.password).toBeUndefined();
    for (const [body, status, error] of [
      [{ username: 'otto', role: 'admin', password: PASSWORD }, 409, 'username_taken'],
      [{ username: 'Otto Two', role: 'viewer' }, 422, 'invalid_username'],
      [{ username: 'weakling', role: 'viewer', password: 'nine-char' }, 422, 'weak_password'],
      [{ username: 'norole', role: 'superuser' }, 400, 'invalid_body'],
    ] as const) {
      const r = await call(root, 'POST', '/api/v1/users', body);
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(r.body.error).toBe(error);
      expect(r.body.message).toBeTruthy();
    }
    expect((await signIn('weakling', 'nine-char')).status).toBe(401);
  });

  it('refuses to leave no enabled admin, and lets one of two concurrent demotions through', async () => {
    for (const body of [{ role: 'trader' }, { disabled: true }, { role: 'viewer', disabled: true }]) {
      const r = await call(root, 'PATCH', `/api/v1/users/${rootId}`, body);
      expect(r.status, JSON.stringify(body)).toBe(409);
      expect(r.body).toMatchObject({
        error: 'last_admin',
        message: expect.stringMatching(/no enabled admin/),
      });
    }
    expect((await call(root, 'GET', '/api/v1/me')).status).toBe(200);
    expect((await call(root, 'PATCH', `/api/v1/users/${rootId}`, {})).status).toBe(400);

    const a = await create('adm-a', 'admin');
    const b = await create('adm-b', 'admin');
    const ta = (await signIn('adm-a')).body.accessToken as string;
    const tb = (await signIn('adm-b')).body.accessToken as string;
    // Root steps aside: a and b are the only enabled admins.
    expect((await call(ta, 'PATCH', `/api/v1/users/${rootId}`, { disabled: true })).status).toBe(200);
    const [x, y] = await Promise.all([
      call(ta, 'PATCH', `/api/v1/users/${b}`, { role: 'trader' }),
      call(tb, 'PATCH', `/api/v1/users/${a}`, { role: 'viewer' }),
    ]);
    expect([x.status, y.status].sort()).toEqual([200, 409]);
    expect([x, y].find((r) => r.status === 409)?.body.error).toBe('last_admin');
    const survivor = x.status === 200 ? ta : tb;
    const admins = ((await call(survivor, 'GET', '/api/v1/users')).body.users as UserJson[]).filter(
      (u) => u.role === 'admin' && !u.disabled,
    );
    expect(admins.map((u) => u.username)).toEqual([x.status === 200 ? 'adm-a' : 'adm-b']);
    expect((await call(survivor, 'PATCH', `/api/v1/users/${rootId}`, { disabled: false })).status).toBe(200);
    root = (await signIn('admin', ADMIN_PASSWORD)).body.accessToken as string;
    expect((await call(root, 'GET', '/api/v1/users')).status).toBe(200);
  });

  it('disables a user: its /ws and /yjs sockets close within 1 s with 4401, its tokens stop at once', async () => {
    const id = await create('dario', 'trader');
    const session = (await signIn('dario')).body as { accessToken: string; refreshToken: string };
    const market = await marketSocket(session.accessToken);
    const { room } = await createWatchlist(t.url, session.accessToken, 'Dario list');
    const yjs = rawYjsSocket(t.server.port, room, session.accessToken);
    await new Promise((r) => yjs.ws.once('message', r));
    await create('dario-peer', 'viewer');
    const other = await marketSocket((await signIn('dario-peer')).body.accessToken as string);

    const t0 = Date.now();
    const r = await call(root, 'PATCH', `/api/v1/users/${id}`, { disabled: true });
    expect(r.status).toBe(200);
    expect((r.body.user as UserJson).disabled).toBe(true);
    const m = await within(1000, 'the /ws socket closed', market.closed);
    expect(m.code).toBe(4401);
    expect(m.reason).toMatch(/^account_disabled: /);
    expect(m.at - t0).toBeLessThan(1000);
    const y = await within(1000, 'the /yjs socket closed', yjs.closed);
    expect(y).toMatchObject({ code: 4401, reason: expect.stringMatching(/^account_disabled: /) });
    expect(Date.now() - t0).toBeLessThan(1000);
    // Another user's socket stays open.
    expect(other.ws.readyState).toBe(WebSocket.OPEN);
    other.ws.close();

    const me = await call(session.accessToken, 'GET', '/api/v1/me');
    expect(me).toMatchObject({ status: 401, body: { error: 'account_disabled' } });
    expect((await call(session.accessToken, 'POST', '/api/v1/auth/socket-ticket')).status).toBe(401);
    const refreshed = await call(undefined, 'POST', '/api/v1/auth/refresh', {
      refreshToken: session.refreshToken,
    });
    expect(refreshed.status).toBe(401);
    expect(await signIn('dario')).toMatchObject({ status: 401, body: { error: 'account_disabled' } });
    const reopened = new WebSocket(`${t.wsUrl}?token=${session.accessToken}`);
    const refused = await new Promise<number>((res) =>
      reopened.on('unexpected-response', (_req, resp) => res(resp.statusCode ?? 0)),
    );
    expect(refused).toBe(401);

    expect((await call(root, 'PATCH', `/api/v1/users/${id}`, { disabled: false })).status).toBe(200);
    expect(await call(session.accessToken, 'GET', '/api/v1/me')).toMatchObject({
      status: 401,
      body: { error: 'token_revoked' },
    });
    const back = (await signIn('dario')).body.accessToken as string;
    expect((await call(back, 'GET', '/api/v1/me')).status).toBe(200);
  });

  it('signs a user out everywhere: sockets closed with signed_out, refresh refused, a new sign-in works', async () => {
    const id = await create('sara', 'viewer');
    const session = (await signIn('sara')).body as { accessToken: string; refreshToken: string };
    const market = await marketSocket(session.accessToken);
    const t0 = Date.now();
    expect((await call(root, 'POST', `/api/v1/users/${id}/sign-out`)).status).toBe(200);
    const m = await within(1000, 'the /ws socket closed', market.closed);
    expect(m).toMatchObject({ code: 4401, reason: expect.stringMatching(/^signed_out: /) });
    expect(m.at - t0).toBeLessThan(1000);
    expect(await call(session.accessToken, 'GET', '/api/v1/me')).toMatchObject({
      status: 401,
      body: { error: 'token_revoked' },
    });
    expect(
      (await call(undefined, 'POST', '/api/v1/auth/refresh', { refreshToken: session.refreshToken })).status,
    ).toBe(401);
    const fresh = (await signIn('sara')).body.accessToken as string;
    expect((await call(fresh, 'GET', '/api/v1/me')).status).toBe(200);
  });

  it('changes a role at once: the old token refused, its refresh gives the new role', async () => {
    const id = await create('vitor', 'viewer');
    const session = (await signIn('vitor')).body as { accessToken: string; refreshToken: string };
    const market = await marketSocket(session.accessToken);
    const r = await call(root, 'PATCH', `/api/v1/users/${id}`, { role: 'admin' });
    expect((r.body.user as UserJson).role).toBe('admin');
    expect(await within(1000, 'the /ws socket closed', market.closed)).toMatchObject({
      code: 4401,
      reason: expect.stringMatching(/^role_changed: /),
    });
    expect((await call(session.accessToken, 'GET', '/api/v1/users')).body.error).toBe('token_revoked');
    const next = await call(undefined, 'POST', '/api/v1/auth/refresh', {
      refreshToken: session.refreshToken,
    });
    expect(next.status).toBe(200);
    expect((await call(next.body.accessToken as string, 'GET', '/api/v1/users')).status).toBe(200);
  });

  it('resets a password: generated or typed, the old one, its tokens and its sockets ended', async () => {
    const id = await create('rosa', 'trader');
    const session = (await signIn('rosa')).body as { accessToken: string; refreshToken: string };
    expect((await call(root, 'POST', `/api/v1/users/${id}/password`, { password: 'short' })).body.error).toBe(
      'weak_password',
    );
    const market = await marketSocket(session.accessToken as string);
    const t0 = Date.now();
    const reset = await call(root, 'POST', `/api/v1/users/${id}/password`);
    expect(reset.status).toBe(200);
    // A reset signs the user out everywhere: its sockets close, its access token stops.
    const m = await within(1000, 'the /ws socket closed', market.closed);
    expect(m).toMatchObject({ code: 4401, reason: expect.stringMatching(/^password_reset: /) });
    expect(m.at - t0).toBeLessThan(1000);
    expect((await call(session.accessToken as string, 'GET', '/api/v1/me')).body.error).toBe('token_revoked');
    const { password, user } = reset.body as unknown as UserWithPassword;
    expect(user.username).toBe('rosa');
    expect(
      (await call(undefined, 'POST', '/api/v1/auth/refresh', { refreshToken: session.refreshToken })).status,
    ).toBe(401);
    expect((await signIn('rosa')).status).toBe(401);
    expect((await signIn('rosa', password)).status).toBe(200);
    const typed = await call(root, 'POST', `/api/v1/users/${id}/password`, { password: 'chosen-by-admin' });
    expect(typed.body.password).toBeUndefined();
    expect((await signIn('rosa', 'chosen-by-admin')).status).toBe(200);
  });

  it('assigns a trading account: audited, the user sockets closed to join the new account, unknown ones refused', async () => {
    const id = await create('caio', 'trader');
    for (const account of ['ASSIGN-A', 'ASSIGN-B'])
      expect(
        (await call(root, 'POST', '/api/v1/accounts', { id: account, brokerId: 1, name: account })).status,
      ).toBe(201);
    expect(await call(root, 'PUT', `/api/v1/users/${id}/account`, { accountId: 'ASSIGN-A' })).toMatchObject({
      status: 200,
      body: { userId: id, accountId: 'ASSIGN-A' },
    });
    const token = (await signIn('caio')).body.accessToken as string;
    const market = await marketSocket(token);
    const t0 = Date.now();
    expect((await call(root, 'PUT', `/api/v1/users/${id}/account`, { accountId: 'ASSIGN-B' })).status).toBe(
      200,
    );
    const m = await within(1000, 'the /ws socket closed', market.closed);
    expect(m).toMatchObject({ code: 4401, reason: expect.stringMatching(/^account_changed: /) });
    expect(m.at - t0).toBeLessThan(1000);
    // Its token still holds: the next socket joins the new account's pushes.
    expect((await call(token, 'GET', '/api/v1/me')).status).toBe(200);
    // The same account again changes nothing: no audit entry, no socket closed.
    const again = await marketSocket(token);
    expect((await call(root, 'PUT', `/api/v1/users/${id}/account`, { accountId: 'ASSIGN-B' })).status).toBe(
      200,
    );
    expect(
      (await call(root, 'PUT', `/api/v1/users/${id}/account`, { accountId: 'NO-SUCH' })).body,
    ).toMatchObject({
      error: 'unknown_account',
    });
    expect((await call(root, 'PUT', '/api/v1/users/999999/account', { accountId: 'ASSIGN-A' })).status).toBe(
      404,
    );
    expect((await call(root, 'PUT', `/api/v1/users/${id}/account`, { accountId: null })).status).toBe(200);
    await within(1000, 'the /ws socket closed on unassignment', again.closed);
    const audit = await call(root, 'GET', `/api/v1/audit?target=user:${id}&action=user.account`);
    const entries = (audit.body.entries as { before: unknown; after: unknown }[]).map((e) => [
      e.before,
      e.after,
    ]);
    const created = await call(root, 'GET', '/api/v1/audit?action=account.create&target=account:ASSIGN-A');
    expect(created.body.entries).toEqual([
      expect.objectContaining({
        actor: { id: rootId, username: 'admin' },
        after: { brokerId: 1, name: 'ASSIGN-A' },
      }),
    ]);
    expect(entries).toEqual([
      [{ accountId: 'ASSIGN-B' }, { accountId: null }],
      [{ accountId: 'ASSIGN-A' }, { accountId: 'ASSIGN-B' }],
      [{ accountId: null }, { accountId: 'ASSIGN-A' }],
    ]);
  });
});
