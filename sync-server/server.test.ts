import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { scrape } from './testing/metrics.ts';
import { ADMIN_PASSWORD, backends, login, startTestServer, type TestServer } from './testing/server.ts';
import { until } from './testing/until.ts';

const json = (url: string, init: RequestInit & { token?: string; body?: string } = {}) =>
  fetch(url, {
    ...init,
    headers: {
      ...(init.body ? { 'Content-Type': 'application/json' } : {}),
      ...(init.token ? { Authorization: `Bearer ${init.token}` } : {}),
    },
  });

describe.each(backends())('server over HTTP on %s', (backend) => {
  let t: TestServer;
  let admin: string;
  beforeAll(async () => {
    t = await startTestServer(backend);
    admin = await login(t.url);
  });
  afterAll(() => t?.close());

  it('answers /healthz, becomes ready once the connector is logged in, and exports metrics', async () => {
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    const ready = await until(async () => {
      const r = await fetch(`${t.url}/readyz`);
      const body = (await r.json()) as { checks: Record<string, boolean> };
      if (r.status !== 200) console.log('readyz', JSON.stringify(body), JSON.stringify(t.server.feed.status));
      return r.status === 200 ? body : undefined;
    }, 'readyz');
    expect(ready.checks).toEqual({ database: true, migrations: true, marketConnector: true });
    const metrics = await scrape(t.url);
    expect(metrics).toContain('tape_http_requests_total');
    expect(metrics).toMatch(/tape_connector_state\{type="marketData"\} 4/);
  });

  it('sends security headers on every response', async () => {
    const r = await fetch(`${t.url}/healthz`);
    expect(r.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it.each([
    ['wrong password', { username: 'admin', password: 'nope' }, 'invalid_credentials'],
    ['unknown user', { username: 'ghost', password: 'whatever' }, 'invalid_credentials'],
  ])('refuses a login with a %s: 401 and the reason', async (_name, body, code) => {
    const r = await json(`${t.url}/api/v1/auth/login`, { method: 'POST', body: JSON.stringify(body) });
    expect(r.status).toBe(401);
    expect(await r.json()).toMatchObject({ error: code, message: 'Wrong username or password' });
  });

  it('refuses requests without, with a forged, or with an expired token, each with its reason', async () => {
    const me = (token?: string) => json(`${t.url}/api/v1/me`, { token });
    expect(await (await me()).json()).toMatchObject({ error: 'token_missing' });
    const [h, p, s] = admin.split('.');
    // Same header and signature, payload altered: the signature no longer matches.
    const claims = JSON.parse(Buffer.from(p as string, 'base64url').toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, name: 'mallory' })).toString('base64url')}.${s}`;
    const r2 = await me(forged);
    expect(r2.status).toBe(401);
    expect(await r2.json()).toMatchObject({ error: 'token_invalid' });
    const expired = await new SignJWT({ role: 'admin', name: 'admin', scope: 'api' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('1')
      .setIssuer('tape')
      .setAudience('tape')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 10)
      .sign(new TextEncoder().encode('not-the-server-key-but-expiry-is-checked-first'));
    const r3 = await me(expired);
    expect(r3.status).toBe(401);
    expect(((await r3.json()) as { error: string }).error).toMatch(/token_(expired|invalid)/);
    const ok = await me(admin);
    expect(await ok.json()).toMatchObject({ user: { username: 'admin', role: 'admin' } });
  });

  it('enforces roles: a viewer cannot manage users', async () => {
    const created = await json(`${t.url}/api/v1/users`, {
      method: 'POST',
      token: admin,
      body: JSON.stringify({ username: 'vera', password: 'viewer-pass', role: 'viewer' }),
    });
    expect(created.status).toBe(201);
    const viewer = await login(t.url, 'vera', 'viewer-pass');
    const r = await json(`${t.url}/api/v1/users`, { token: viewer });
    expect(r.status).toBe(403);
    expect(await r.json()).toMatchObject({ error: 'forbidden' });
  });

  it('rejects bad bodies with a 4xx and a reason, never a crash', async () => {
    const post = (body: string, type = 'application/json') =>
      fetch(`${t.url}/api/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': type }, body });
    expect((await post('{nope')).status).toBe(400);
    expect(await (await post('{nope')).json()).toMatchObject({ error: 'bad_json' });
    expect((await post('username=a', 'application/x-www-form-urlencoded')).status).toBe(415);
    const invalid = await post(JSON.stringify({ username: 7 }));
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ error: 'invalid_body' });
    expect((await post(JSON.stringify({ username: 'a'.repeat(70_000), password: 'x' }))).status).toBe(413);
    expect((await fetch(`${t.url}/api/v1/nope`)).status).toBe(404);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });

  it('refuses a WebSocket upgrade without a valid token', async () => {
    const status = (url: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(url);
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => resolve(101));
        ws.on('error', () => {});
      });
    expect(await status(t.wsUrl)).toBe(401);
    expect(await status(`${t.wsUrl}?token=garbage`)).toBe(401);
    expect(await status(`${t.wsUrl}?token=${admin}`)).toBe(101);
  });

  it('keeps users across a restart and signs the same admin in', async () => {
    t = await t.restart();
    expect(await login(t.url, 'admin', ADMIN_PASSWORD)).toMatch(/^ey/);
  });
});
