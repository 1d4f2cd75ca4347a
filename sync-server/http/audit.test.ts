import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RISK } from '../orders/risk.ts';
import type { AuditJson, AuditPage, RedriveOutcome } from '../shared/admin.ts';
import type { OrderJson } from '../shared/orders.ts';
import { lastTradeAt } from '../testing/market.ts';
import { backends, login, startTestServer, type TestServer } from '../testing/server.ts';
import { until } from '../testing/until.ts';

// The audit trail over a real server (GET /api/v1/audit, operations.md Audit): what a trader's
// orders and an admin's redrive write, read back by actor, action, target and time, page by
// page; a bad query is refused with 422.

const ACCOUNT = 'SIM-0001';
const TRADER = 'audit-trader';
// The defaults, stored: an audited risk_config.update of the account.
const { killSwitch: _, ...LIMITS } = DEFAULT_RISK;

describe.each(backends())('the audit trail (%s)', (backend) => {
  let t: TestServer;
  let admin: string;
  let trader: string;
  let traderId: number;

  const call = async (token: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${t.url}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const audit = async (query: Record<string, string>) => {
    const r = await call(admin, 'GET', `/api/v1/audit?${new URLSearchParams(query)}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body as unknown as AuditPage;
  };
  const sim = () => t.server.connector.sim as NonNullable<TestServer['server']['connector']['sim']>;
  const orderOf = async (id: number) =>
    (await call(admin, 'GET', `/api/v1/orders/${id}`)).body.order as OrderJson;

  beforeAll(async () => {
    t = await startTestServer(backend);
    sim().setRate(0);
    sim().resetOrders();
    admin = await login(t.url);
    await until(() => t.server.orders?.isReady, 'orders reconciled');
    expect(
      (await call(admin, 'POST', '/api/v1/accounts', { id: ACCOUNT, brokerId: 1982, name: ACCOUNT })).status,
    ).toBe(201);
    const made = await call(admin, 'POST', '/api/v1/users', {
      username: TRADER,
      password: `${TRADER}-password`,
      role: 'trader',
    });
    traderId = (made.body.user as { userId: number }).userId;
    await call(admin, 'PUT', `/api/v1/users/${traderId}/account`, { accountId: ACCOUNT });
    expect((await call(admin, 'PUT', `/api/v1/risk/config/${ACCOUNT}`, LIMITS)).status).toBe(200);
    trader = await login(t.url, TRADER, `${TRADER}-password`);
    await lastTradeAt(t.server, 38.5);
  }, 60_000);
  afterAll(async () => {
    // The simulator library is process-wide: no order left working for the next file.
    t?.server.connector.sim?.resetOrders();
    t?.server.connector.sim?.setOrderMode('match');
    await t?.close();
  });

  it("records a trader's submit, change, cancel and cancel-all as that trader's", async () => {
    sim().setOrderMode('hold');
    const submit = (clientOrderId: string, price: number) =>
      call(trader, 'POST', '/api/v1/orders', {
        clientOrderId,
        ticker: 'PETR4',
        side: 'buy',
        type: 'limit',
        qty: 100,
        price,
      });
    const placed = await submit('audit-1', 38.4);
    expect(placed.status).toBe(201);
    const id = (placed.body.order as OrderJson).id;
    await until(async () => (await orderOf(id)).state === 'new', 'the order acknowledged');
    // A resend of the same order creates nothing, and is not audited again.
    expect((await submit('audit-1', 38.4)).status).toBe(200);
    expect((await call(trader, 'POST', `/api/v1/orders/${id}/modify`, { price: 38.3 })).status).toBe(202);
    await until(async () => (await orderOf(id)).price === 38.3, 'the change applied');
    expect((await call(trader, 'POST', `/api/v1/orders/${id}/cancel`)).status).toBe(202);
    // Off the price band: rejected by risk, stored, and audited with its reason.
    const far = await submit('audit-2', 50);
    expect(far.status).toBe(422);
    const rejected = (far.body.order as OrderJson).id;
    const second = await submit('audit-3', 38.2);
    await until(
      async () => (await orderOf((second.body.order as OrderJson).id)).state === 'new',
      'acknowledged',
    );
    const all = await call(trader, 'POST', '/api/v1/orders/cancel-all');
    expect(all.status).toBe(202);

    const trail = (await audit({ target: `order:${id}` })).entries;
    expect(trail.map((e) => e.action)).toEqual(['order.cancel', 'order.modify', 'order.submit']);
    expect(trail.every((e) => e.actor?.username === TRADER && e.actor.id === traderId)).toBe(true);
    const [cancel, modify, submitted] = trail as [AuditJson, AuditJson, AuditJson];
    expect(submitted.after).toEqual({
      clientOrderId: 'audit-1',
      ticker: 'PETR4',
      side: 'buy',
      type: 'limit',
      qty: 100,
      price: 38.4,
      // As the answer had it: written ahead and sent, or acknowledged already.
      state: expect.stringMatching(/^(pending_new|new)$/),
    });
    expect(modify).toMatchObject({ before: { price: 38.4, qty: 100 }, after: { price: 38.3, qty: 100 } });
    expect(cancel).toMatchObject({ before: { state: 'new' }, after: { requested: 'cancel' } });
    expect((await audit({ target: `order:${rejected}` })).entries).toMatchObject([
      {
        action: 'order.submit',
        after: { clientOrderId: 'audit-2', state: 'rejected', rejectReason: 'price_outside_band' },
      },
    ]);
    expect((await audit({ target: `account:${ACCOUNT}`, action: 'order.cancel_all' })).entries).toMatchObject(
      [{ action: 'order.cancel_all', actor: { username: TRADER }, after: { count: 1 } }],
    );
    sim().setOrderMode('match');
  }, 60_000);

  it('filters by actor, action (exact or prefix), target and time', async () => {
    const mine = (await audit({ actor: TRADER })).entries;
    expect(mine.length).toBeGreaterThanOrEqual(6);
    expect(mine.every((e) => e.actor?.username === TRADER)).toBe(true);
    // Signing in is the trader's own act; the rest are order actions.
    expect(new Set(mine.map((e) => e.action.split('.')[0]))).toEqual(new Set(['auth', 'order']));
    const users = (await audit({ action: 'user.' })).entries;
    expect(users.length).toBeGreaterThan(0);
    expect(users.every((e) => e.action.startsWith('user.'))).toBe(true);
    expect(
      users.find((e) => e.action === 'user.create' && e.target === `user:${traderId}`)?.actor?.username,
    ).toBe('admin');
    expect((await audit({ action: 'user.create', actor: TRADER })).entries).toEqual([]);
    expect((await audit({ actor: 'no-such-user' })).entries).toEqual([]);
    const risk = (await audit({ action: 'risk_config.update', target: `account:${ACCOUNT}` })).entries;
    expect(risk).toHaveLength(1);
    const at = Date.parse(risk[0]?.at as string);
    const iso = (ms: number) => new Date(ms).toISOString();
    const around = (await audit({ from: iso(at), to: iso(at + 1), action: 'risk_config.' })).entries;
    expect(around.map((e) => e.id)).toEqual([risk[0]?.id]);
    expect((await audit({ from: iso(at + 1), action: 'risk_config.' })).entries).toEqual([]);
  });

  it('pages by cursor: every entry once, newest first, and the last page says there is no next', async () => {
    const whole = await audit({ limit: '500' });
    expect(whole.next).toBeNull();
    expect(whole.entries.length).toBeGreaterThan(10);
    const ids: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: AuditPage = await audit(cursor ? { limit: '3', cursor } : { limit: '3' });
      expect(page.entries.length).toBeLessThanOrEqual(3);
      ids.push(...page.entries.map((e) => e.id));
      cursor = page.next;
      pages++;
    } while (cursor);
    expect(ids).toEqual(whole.entries.map((e) => e.id));
    expect(pages).toBe(Math.ceil(ids.length / 3));
    expect([...ids].sort((a, b) => b - a)).toEqual(ids);
  });

  it("audits an admin's redrive with its outcome", async () => {
    t.server.deadLetters.add({
      source: 'capture.ring',
      reason: 'ring_overflow',
      detail: 'd',
      payload: { lost: 2 },
    });
    await t.server.deadLetters.flush();
    const [letter] = await t.server.deadLetters.store.list({ source: 'capture.ring', limit: 1 });
    const id = letter?.id as number;
    const r = await call(admin, 'POST', '/api/v1/admin/dead-letters/redrive', { ids: [id] });
    expect(r.status).toBe(200);
    const [outcome] = r.body.outcomes as RedriveOutcome[];
    expect(outcome).toMatchObject({ id, outcome: 'not_redrivable' });
    expect((await audit({ action: 'dead_letter.redrive', actor: 'admin' })).entries).toMatchObject([
      { target: `dead_letter:${id}`, actor: { username: 'admin' }, after: outcome },
    ]);
    // The admin's list of letters is refused to a trader, and so is the trail.
    expect((await call(trader, 'GET', '/api/v1/audit')).status).toBe(403);
  });

  it('refuses a bad query with 422 naming the parameter', async () => {
    for (const [query, param] of [
      [{ actor: 'Not A Name' }, 'actor'],
      [{ action: 'user.%' }, 'action'],
      [{ limit: '0' }, 'limit'],
      [{ limit: 'many' }, 'limit'],
      [{ to: 'tomorrow' }, 'to'],
      [{ from: '2026-12-02T00:00:00Z', to: '2026-12-02T00:00:00Z' }, 'from'],
      [{ cursor: 'bm90IGEgY3Vyc29y' }, 'cursor'],
      [{ target: '' }, 'target'],
    ] as const) {
      const r = await call(admin, 'GET', `/api/v1/audit?${new URLSearchParams(query)}`);
      expect(r.status, JSON.stringify(query)).toBe(422);
      expect(r.body).toMatchObject({
        error: 'invalid_query',
        message: expect.stringMatching(new RegExp(`^${param}: `)),
      });
    }
  });
});
