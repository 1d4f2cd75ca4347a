import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWatchlist, ERROR_CODE, login, startTestServer, type TestServer } from '../testing/server.ts';
import type { Route } from './types.ts';

// Hostile REST input, generated from the server's own route table: every route that takes a
// body gets fuzzed bodies (any JSON value, near-misses of the real fields with wrong types and
// ranges, huge strings, deep nesting, NUL characters, invalid UTF-8, non-JSON, the wrong
// content type) with an admin token of the route's scope; every route with path parameters
// gets fuzzed segments. The answer is a 4xx with a JSON {error, message} (or a 2xx when the
// fuzz happened to be valid), never a 5xx and never a hang; the server stays healthy.

const BODY_CASES_PER_ROUTE = 50;
const PATH_CASES_PER_ROUTE = 25;

/** Every field name a body schema in http/routes/ reads, so near-misses reach the handlers. */
const FIELDS = [
  'username',
  'password',
  'role',
  'refreshToken',
  'name',
  'clientOrderId',
  'ticker',
  'side',
  'type',
  'qty',
  'price',
  'id',
  'brokerId',
  'accountId',
  'disabled',
  'on',
  'cancelAll',
  'maxOrderQty',
  'maxOrderNotionalCents',
  'maxPositionQty',
  'maxOpenOrders',
  'dailyLossLimitCents',
  'priceBandPct',
  'ordersPerSecond',
  'orderBurst',
  'question',
  'paths',
] as const;

const nasty = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    'a\u0000b',
    '\u0000',
    '\ud800',
    'x\udfffy',
    '\u202e',
    'admin',
    'trader',
    'viewer',
    'editor',
    'buy',
    'limit',
    'market',
    'PETR4',
    'FUZZ-ACCT',
    '../../etc/passwd',
    "'; drop table users; --",
    '%00',
    '__proto__',
    'constructor',
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer({ min: 1, max: 3000 }).map((n) => 'x'.repeat(n)),
);
const numbery = fc.oneof(
  fc.integer(),
  fc.integer({ min: 1, max: 100 }),
  fc.constantFrom(0, -1, 1, 0.5, 2 ** 31, 2 ** 31 - 1, 2 ** 53, 2 ** 63, 1e308, -1e308, 5e-324, 100_000_000),
  fc.double(),
);
const value: fc.Arbitrary<unknown> = fc.oneof(
  nasty,
  numbery,
  fc.boolean(),
  fc.constant(null),
  fc.array(nasty, { maxLength: 5 }),
  fc.jsonValue({ maxDepth: 2 }),
);
const nearMiss = fc
  .array(fc.tuple(fc.constantFrom(...FIELDS), value), { maxLength: 8 })
  .map((kv) => Object.fromEntries(kv));

/** A valid body per route (by `METHOD path`): mutated one or more fields at a time, it gets past the schema into the handlers and the database. */
const RISK = {
  maxOrderQty: 1000,
  maxOrderNotionalCents: 10_000_000,
  maxPositionQty: 10_000,
  maxOpenOrders: 10,
  dailyLossLimitCents: 1_000_000,
  priceBandPct: 5,
  ordersPerSecond: 5,
  orderBurst: 10,
};
const VALID: Record<string, Record<string, unknown>> = {
  'post /api/v1/auth/login': { username: 'admin', password: 'not-the-password' },
  'post /api/v1/auth/refresh': { refreshToken: 'r'.repeat(43) },
  'post /api/v1/auth/logout': { refreshToken: 'r'.repeat(43) },
  'post /api/v1/users': { username: 'fuzz.user', password: 'fuzz-password', role: 'viewer' },
  'post /api/v1/watchlists': { name: 'fuzz' },
  'patch /api/v1/watchlists/:id': { name: 'fuzz' },
  'put /api/v1/watchlists/:id/members/:username': { role: 'viewer' },
  'post /api/v1/orders': {
    clientOrderId: 'fz-1',
    ticker: 'PETR4',
    side: 'buy',
    type: 'limit',
    qty: 100,
    price: 38.5,
  },
  'post /api/v1/orders/:id/modify': { price: 38.5, qty: 100 },
  'put /api/v1/risk/config/:account': RISK,
  'post /api/v1/risk/kill-switch/:account': { on: false, cancelAll: false },
  'post /api/v1/accounts': { id: 'FUZZ-ACCT', brokerId: 1, name: 'fuzz' },
  'put /api/v1/users/:id/account': { accountId: 'FUZZ-ACCT' },
  'patch /api/v1/users/:id': { role: 'trader', disabled: false },
  'post /api/v1/users/:id/password': { password: 'fuzz-password-2' },
  'post /api/v1/rag/query': { question: 'How does replay work?' },
};
const mutated = (valid: Record<string, unknown>) =>
  fc
    .tuple(fc.subarray(Object.keys(valid), { minLength: 1 }), fc.array(value, { minLength: 8, maxLength: 8 }))
    .map(([keys, values]) => ({ ...valid, ...Object.fromEntries(keys.map((k, i) => [k, values[i]])) }));

interface BodyCase {
  readonly body: string | Uint8Array | undefined;
  readonly contentType: string | undefined;
  readonly what: string;
}
const json = (v: unknown, what: string): BodyCase => ({
  body: JSON.stringify(v) ?? 'null',
  contentType: 'application/json',
  what,
});
const bodyCaseFor = (valid: Record<string, unknown> | undefined): fc.Arbitrary<BodyCase> =>
  fc.oneof(
    {
      weight: valid ? 8 : 0,
      arbitrary: mutated(valid ?? { x: 1 }).map((v) => json(v, 'mutated valid body')),
    },
    { weight: valid ? 1 : 0, arbitrary: fc.constant(json(valid ?? {}, 'valid body')) },
    { weight: 4, arbitrary: nearMiss.map((v) => json(v, 'near miss')) },
    { weight: 3, arbitrary: fc.anything({ maxDepth: 3 }).map((v) => json(v, 'any value')) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => json(v, 'json value')) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 100, max: 20_000 }).map((n) => ({
        body: `${'['.repeat(n)}${']'.repeat(n)}`,
        contentType: 'application/json',
        what: 'deep',
      })),
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 100, max: 5_000 }).map((n) => ({
        body: `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`,
        contentType: 'application/json',
        what: 'deep object',
      })),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(...FIELDS)
        .map((k) => json({ [k]: 'y'.repeat(60_000) }, 'huge string under the limit')),
    },
    {
      weight: 1,
      arbitrary: fc.uint8Array({ minLength: 1, maxLength: 200 }).map((b) => ({
        body: Uint8Array.from([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, ...b]),
        contentType: 'application/json',
        what: 'invalid UTF-8',
      })),
    },
    {
      weight: 1,
      arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((s) => ({
        body: s,
        contentType: 'application/json',
        what: 'not JSON',
      })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.constantFrom(
            undefined,
            'text/plain',
            'application/x-www-form-urlencoded',
            'multipart/form-data',
            'application/jsonx',
            'json',
          ),
          nearMiss,
        )
        .map(([contentType, v]) => ({
          body: JSON.stringify(v),
          contentType,
          what: `content type ${contentType}`,
        })),
    },
    { weight: 1, arbitrary: fc.constant({ body: undefined, contentType: undefined, what: 'no body' }) },
  );

/** A path segment: valid ids, hostile text, percent-encoding of anything, and broken escapes. */
const segment = fc.oneof(
  fc.constantFrom(
    '1',
    '0',
    '-1',
    '1e3',
    '9007199254740993',
    '99999999999999999999',
    'NaN',
    '%',
    '%Z',
    '%ZZ',
    '%E0%A4%A',
    '%C0%AF',
    '%ED%A0%80',
    '%00',
    '%2e%2e',
    '..',
    'FUZZ-ACCT',
  ),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }).map(encodeURIComponent),
  fc
    .uint8Array({ minLength: 1, maxLength: 20 })
    .map((b) => [...b].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('')),
  fc.stringMatching(/^[A-Za-z0-9%._~-]{1,40}$/),
);

const methodOf = (m: Route['method']) => (m === 'del' ? 'DELETE' : m.toUpperCase());

describe('REST under hostile input', () => {
  let t: TestServer;
  const tokens = new Map<string, string>();
  let watchlistId = 1;
  let fuzzUserId = 1;

  beforeAll(async () => {
    t = await startTestServer(process.env.DATABASE_URL ? 'postgres' : 'pglite');
    const api = await login(t.url);
    tokens.set('api', api);
    const auth = { Authorization: `Bearer ${api}`, 'Content-Type': 'application/json' };
    const rag = await fetch(`${t.url}/api/v1/rag/token`, { method: 'POST', headers: auth });
    tokens.set('rag:query', ((await rag.json()) as { token: string }).token);
    // Real things for the path parameters to name, so fuzzed bodies get past the lookups.
    await fetch(`${t.url}/api/v1/accounts`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ id: 'FUZZ-ACCT', brokerId: 1, name: 'fuzz' }),
    });
    watchlistId = (await createWatchlist(t.url, api, 'fuzz')).id;
    // The user the user-admin routes change: signing the admin out would end the run's token.
    const target = await fetch(`${t.url}/api/v1/users`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ username: 'fuzz.target', role: 'viewer' }),
    });
    fuzzUserId = ((await target.json()) as { user: { userId: number } }).user.userId;
    // The admin trades on it, so fuzzed orders reach the risk checks and the simulator.
    await fetch(`${t.url}/api/v1/users/1/account`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ accountId: 'FUZZ-ACCT' }),
    });
  }, 60_000);
  afterAll(() => t?.close());

  const pathOf = (pattern: string) =>
    pattern
      .replace(
        /:id\b/g,
        pattern.includes('watchlists')
          ? String(watchlistId)
          : /^\/api\/v1\/users\/:id(\/password|\/sign-out)?$/.test(pattern)
            ? String(fuzzUserId)
            : '1',
      )
      .replace(/:account\b/g, 'FUZZ-ACCT')
      .replace(/:username\b/g, 'admin');

  const failures: string[] = [];
  /** Sends one request and checks the answer; returns the status. */
  const probe = async (route: Route, path: string, c: BodyCase) => {
    const what = `${methodOf(route.method)} ${path} with ${c.what}: ${String(c.body).slice(0, 120)}`;
    let res: Response;
    try {
      res = await fetch(`${t.url}${path}`, {
        method: methodOf(route.method),
        headers: {
          Authorization: `Bearer ${tokens.get(route.scope ?? 'api')}`,
          ...(c.contentType ? { 'Content-Type': c.contentType } : {}),
        },
        body: c.body as BodyInit | undefined,
        signal: AbortSignal.timeout(15_000),
      });
    } catch (err) {
      failures.push(`${what} → no answer (${(err as Error).message})`);
      return 0;
    }
    const text = await res.text();
    if (res.status >= 500) failures.push(`${what} → ${res.status} ${text.slice(0, 200)}`);
    else if (res.status >= 400) {
      let body: { error?: unknown; message?: unknown } = {};
      try {
        body = JSON.parse(text);
      } catch {
        // reported below
      }
      if (
        typeof body.error !== 'string' ||
        !ERROR_CODE.test(body.error) ||
        typeof body.message !== 'string' ||
        body.message === ''
      )
        failures.push(`${what} → ${res.status} without {error: <code>, message}: ${text.slice(0, 200)}`);
    }
    return res.status;
  };

  it('answers every fuzzed body on every POST/PUT/PATCH route with a 4xx and a reason (or a 2xx), never a 5xx', {
    timeout: 60_000,
  }, async () => {
    const routes = t.server.routes.filter(
      (r) => r.method === 'post' || r.method === 'put' || r.method === 'patch',
    );
    expect(routes.length).toBeGreaterThan(15);
    const statuses = new Map<number, number>();
    let n = 0;
    for (const route of routes) {
      // Questions go through the answer pipeline and its rate limit: fewer of them.
      const runs = route.path.includes('/rag/') ? 15 : BODY_CASES_PER_ROUTE;
      for (const c of fc.sample(bodyCaseFor(VALID[`${route.method} ${route.path}`]), runs)) {
        n++;
        const status = await probe(route, pathOf(route.path), c);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }
    console.log(
      'fuzz-count',
      'rest bodies',
      n,
      `over ${routes.length} routes; statuses`,
      Object.fromEntries(statuses),
    );
    expect(failures).toEqual([]);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });

  it('answers each field of each valid body set to a boundary value with a 4xx or a 2xx, never a 5xx', {
    timeout: 60_000,
  }, async () => {
    // Regressions: NUL in text and an id past int4 reached PostgreSQL (500); risk settings for an
    // account that does not exist broke its foreign key (500).
    const boundary: unknown[] = [
      'a\u0000b',
      '',
      ' ',
      'x'.repeat(10_000),
      '\ud800',
      2 ** 31,
      2 ** 40,
      -1,
      0,
      1.5,
      1e308,
      null,
      [],
      {},
      true,
    ];
    let n = 0;
    for (const route of t.server.routes) {
      const valid = VALID[`${route.method} ${route.path}`];
      if (!valid) continue;
      const paths = [
        pathOf(route.path),
        ...(route.path.includes(':account') ? [route.path.replace(':account', 'NO-SUCH-ACCT')] : []),
      ];
      for (const path of paths) {
        for (const key of Object.keys(valid)) {
          for (const v of boundary) {
            n++;
            await probe(
              route,
              path,
              json({ ...valid, [key]: v }, `${key} = ${JSON.stringify(v).slice(0, 20)}`),
            );
          }
        }
      }
    }
    console.log('fuzz-count', 'rest boundary values', n);
    expect(failures).toEqual([]);
  });

  it('answers fuzzed path parameters (broken percent-encoding included) with a 4xx or a 2xx, never a crash', {
    timeout: 40_000,
  }, async () => {
    const routes = t.server.routes.filter((r) => r.path.includes('/:'));
    expect(routes.length).toBeGreaterThan(5);
    let n = 0;
    for (const route of routes) {
      // Regression: a malformed escape used to throw before uWS had an abort handler, and uWS
      // then aborted the whole process ("Returning from a request handler without responding").
      for (const raw of ['%ZZ', '%E0%A4%A', ...fc.sample(segment, PATH_CASES_PER_ROUTE)]) {
        n++;
        // User 1 is the admin running the fuzz: a sign-out of it would end the run's token.
        const own = raw === '1' && route.path.startsWith('/api/v1/users/:id');
        const path = route.path.replace(/:[A-Za-z0-9_]+/g, own ? String(fuzzUserId) : raw);
        const body = route.method === 'get' || route.method === 'del' ? undefined : '{}';
        await probe(route, path, { body, contentType: body && 'application/json', what: `segment ${raw}` });
      }
    }
    console.log('fuzz-count', 'rest path params', n, `over ${routes.length} routes`);
    expect(failures).toEqual([]);
    const bad = await fetch(`${t.url}/api/v1/orders/%ZZ`, {
      headers: { Authorization: `Bearer ${tokens.get('api')}` },
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'bad_path' });
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });
});
