import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SocketTickets } from '../auth/tickets.ts';
import { type Principal, TokenSigner } from '../auth/tokens.ts';
import { ROLES, type Role } from '../shared/admin.ts';
import { METRICS_TOKEN } from '../testing/metrics.ts';
import { createWatchlist, login, startTestServer, type TestServer } from '../testing/server.ts';

// The authz matrix, generated from the server's own route table: every REST route, the market
// socket and a Yjs room, for no token, a forged token, an expired token, a token of another
// scope, and each role; the sockets also for bad one-time tickets. A route added later is
// covered without touching this file.

const SECRET = 'authz-matrix-secret-of-at-least-32-characters';
const PASSWORD = 'authz-user-password';

const pathOf = (pattern: string) =>
  pattern
    .replace(/:id\b/g, '999999')
    .replace(/:account\b/g, 'NO-SUCH')
    .replace(/:username\b/g, 'nobody');

describe('authz matrix over every route', () => {
  let t: TestServer;
  const users: Record<Role, Principal> = {} as Record<Role, Principal>;
  const genuine = new TokenSigner(SECRET, 900);
  const forger = new TokenSigner('a-different-secret-that-is-long-enough-too', 900);
  let tried = 0;

  const call = async (method: string, path: string, token: string | undefined) => {
    tried++;
    const res = await fetch(`${t.url}${path}`, {
      method: method === 'del' ? 'DELETE' : method.toUpperCase(),
      headers: {
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
        ...(method === 'get' || method === 'del' ? {} : { 'Content-Type': 'application/json' }),
      },
      body: method === 'get' || method === 'del' ? undefined : '{}',
    });
    const body = (await res.json().catch(() => ({}))) as { error?: string; message?: string };
    return { status: res.status, ...body };
  };

  beforeAll(async () => {
    t = await startTestServer('pglite', { TAPE_JWT_SECRET: SECRET });
    const admin = await login(t.url);
    for (const role of ROLES) {
      const username = `authz-${role}`;
      const res = await fetch(`${t.url}/api/v1/users`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ username, password: PASSWORD, role }),
      });
      users[role] = ((await res.json()) as { user: Principal }).user;
    }
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    console.log(`authz matrix: ${tried} requests over ${t?.server.routes.length} routes`);
  });

  it('refuses every protected route without a valid token of its scope, and each role it does not name', async () => {
    const routes = t.server.routes.filter((r) => r.access !== 'public');
    expect(routes.length).toBeGreaterThan(30);
    expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining([
        'post /api/v1/auth/socket-ticket',
        'get /api/v1/admin/dead-letters',
        'post /api/v1/admin/dead-letters/redrive',
        'post /api/v1/admin/dead-letters/:id/redrive',
        'get /api/v1/audit',
      ]),
    );
    for (const r of routes) {
      const path = pathOf(r.path);
      const what = `${r.method.toUpperCase()} ${r.path}`;
      const scope = r.scope ?? 'api';
      const otherScope = scope === 'api' ? 'rag:query' : 'api';
      const admin = users.admin;
      for (const [who, token] of [
        ['no token', undefined],
        ['forged', await forger.sign(admin, scope)],
        ['expired', await genuine.sign(admin, scope, -60)],
        [`scope ${otherScope}`, await genuine.sign(admin, otherScope)],
        ['garbage', 'not.a.jwt'],
      ] as const) {
        const res = await call(r.method, path, token);
        expect(res.status, `${what} with ${who}`).toBe(401);
        expect(res.message, `${what} with ${who} says why`).toBeTruthy();
      }
      for (const role of ROLES) {
        const res = await call(r.method, path, await genuine.sign(users[role], scope));
        const refusedByRole = res.status === 403 && /needs the role/.test(res.message ?? '');
        if ((r.access as readonly Role[]).includes(role)) {
          expect(res.status, `${what} as ${role}`).not.toBe(401);
          expect(refusedByRole, `${what} as ${role}: ${res.message}`).toBe(false);
        } else {
          expect(refusedByRole, `${what} as ${role}: ${res.status} ${res.message}`).toBe(true);
        }
      }
    }
  }, 120_000);

  it('opens /metrics to an admin or the scrape token (TAPE_METRICS_TOKEN), which opens nothing else', async () => {
    const scrape = async (token: string | undefined) => {
      tried++;
      const res = await fetch(`${t.url}/metrics`, {
        headers: token ? { Authorization: `Bearer ${token}` } : {},
      });
      return { status: res.status, text: await res.text() };
    };
    const scraped = await scrape(METRICS_TOKEN);
    expect(scraped.status).toBe(200);
    expect(scraped.text).toContain('tape_ws_connections');
    expect((await scrape(await genuine.sign(users.admin))).status).toBe(200);
    // Its length and all but its last character right: still refused.
    const nearly = `${METRICS_TOKEN.slice(0, -1)}${METRICS_TOKEN.endsWith('x') ? 'y' : 'x'}`;
    for (const token of [undefined, nearly, `${METRICS_TOKEN}x`, METRICS_TOKEN.slice(0, -1)]) {
      const res = await scrape(token);
      expect(res.status, `/metrics with ${token}`).toBe(401);
      expect(res.text).not.toContain('tape_');
    }
    expect((await scrape(await genuine.sign(users.trader))).status).toBe(403);
    for (const r of t.server.routes.filter((x) => x.access !== 'public' && x.path !== '/metrics')) {
      const res = await call(r.method, pathOf(r.path), METRICS_TOKEN);
      expect(res.status, `${r.method.toUpperCase()} ${r.path} with the scrape token`).toBe(401);
    }
  });

  it('refuses the market socket and a Yjs room without a valid token or ticket, and a room to a non-member', async () => {
    const admin = await genuine.sign(users.admin);
    const { room } = await createWatchlist(t.url, admin, 'Admin only');
    const outcome = (path: string, token: string | undefined, credential = 'token') =>
      new Promise<string>((resolve) => {
        tried++;
        const ws = new WebSocket(
          `ws://127.0.0.1:${t.server.port}${path}${token ? `?${credential}=${token}` : ''}`,
        );
        ws.on('unexpected-response', (_req, res) => resolve(`http ${res.statusCode}`));
        ws.on('close', (code) => resolve(`close ${code}`));
        ws.on('error', () => {});
      });
    // Whether a socket opened with `ticket` gets a first message (the hello, or sync step 1).
    const firstMessage = (path: string, ticket: string) =>
      new Promise<boolean>((resolve) => {
        tried++;
        const ws = new WebSocket(`ws://127.0.0.1:${t.server.port}${path}?ticket=${ticket}`);
        ws.on('message', () => {
          resolve(true);
          ws.close();
        });
        ws.on('unexpected-response', () => resolve(false));
        ws.on('error', () => {});
      });
    for (const path of ['/ws', `/yjs/${room}`]) {
      for (const token of [
        undefined,
        await forger.sign(users.trader),
        await genuine.sign(users.trader, 'api', -60),
        await genuine.sign(users.trader, 'rag:query'),
      ]) {
        expect(await outcome(path, token), `${path} with a bad token`).toBe('http 401');
      }
      const member = { ...users.admin, expiresAt: Date.now() + 600_000 };
      const used = new SocketTickets(SECRET).mint(member).ticket;
      expect(await firstMessage(path, used), `${path} with a good ticket`).toBe(true);
      for (const [what, ticket] of [
        ['used', used],
        ['expired', new SocketTickets(SECRET, () => Date.now() - 30_000).mint(member).ticket],
        ['forged', new SocketTickets('a-different-secret-that-is-long-enough-too').mint(member).ticket],
        ['garbage', 'not-a-ticket'],
      ] as const) {
        expect(await outcome(path, ticket, 'ticket'), `${path} with a ${what} ticket`).toBe('http 401');
      }
    }
    // A trader who is not a member of the admin's watchlist: the room is closed on them.
    expect(await outcome(`/yjs/${room}`, await genuine.sign(users.trader))).toMatch(/^close 440[34]$/);
    const ticket = await fetch(`${t.url}/api/v1/auth/socket-ticket`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${await genuine.sign(users.trader)}` },
    });
    expect(
      await outcome(`/yjs/${room}`, ((await ticket.json()) as { ticket: string }).ticket, 'ticket'),
    ).toMatch(/^close 440[34]$/);
  });
});
