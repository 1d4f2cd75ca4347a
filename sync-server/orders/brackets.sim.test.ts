import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { BracketJson, OrderJson, PositionJson } from '../shared/orders.ts';
import { b3Now } from '../testing/market.ts';
import { backends, login, startTestServer, type TestServer } from '../testing/server.ts';
import { until } from '../testing/until.ts';

// OCO brackets end to end over REST, through the koffi binding and the simulator library: the
// take-profit's fills (SimFillOrder, a deterministic partial fill) cut the stop with
// SendChangeOrderV2 and then cancel it with SendCancelOrderV2; the bracket is pushed to the
// account's sockets. brackets.test.ts is the property over every interleaving.

const ACCOUNT = 'SIM-0001';

describe.each(backends())('OCO brackets through the simulator on %s', (backend) => {
  let t: TestServer;
  let admin: string;
  let trader: string;
  let n = 0;
  const sim = () => t.server.connector.sim as NonNullable<TestServer['server']['connector']['sim']>;
  const api = async (token: string, method: string, path: string, body?: unknown) => {
    const r = await fetch(`${t.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  const order = async (id: number) =>
    (await api(admin, 'GET', `/api/v1/orders/${id}`)).body.order as OrderJson;
  const bracket = async (id: number) =>
    ((await api(trader, 'GET', '/api/v1/brackets')).body.brackets as BracketJson[]).find((b) => b.id === id);
  const position = async () =>
    ((await api(trader, 'GET', '/api/v1/positions')).body.positions as PositionJson[]).find(
      (p) => p.ticker === 'PETR4',
    )?.qty ?? 0;

  beforeAll(async () => {
    t = await startTestServer(backend);
    sim().setRate(0);
    sim().resetOrders();
    sim().setOrderMode('match');
    admin = await login(t.url);
    await until(() => t.server.orders?.isReady, 'orders reconciled');
    expect(
      (await api(admin, 'POST', '/api/v1/accounts', { id: ACCOUNT, brokerId: 1982, name: ACCOUNT })).status,
    ).toBe(201);
    const u = await api(admin, 'POST', '/api/v1/users', {
      username: 'oco',
      password: 'oco-password-1',
      role: 'trader',
    });
    await api(admin, 'PUT', `/api/v1/users/${(u.body.user as { userId: number }).userId}/account`, {
      accountId: ACCOUNT,
    });
    trader = await login(t.url, 'oco', 'oco-password-1');
    sim().injectTrade({
      ticker: 'PETR4',
      exchange: 'B',
      date: b3Now(),
      price: 38.5,
      qty: 100,
      tradeNumber: 1,
    });
    await until(() => t.server.market.quote('PETR4')?.last === 38.5, 'the last PETR4 trade');
  });
  afterAll(async () => {
    t?.server.connector.sim?.resetOrders();
    await t?.close();
  });

  /** Buys `qty` at market and waits for the position. */
  const hold = async (qty: number) => {
    const before = await position();
    const r = await api(trader, 'POST', '/api/v1/orders', {
      clientOrderId: `buy-${++n}`,
      ticker: 'PETR4',
      side: 'buy',
      type: 'market',
      qty,
    });
    expect(r.status).toBe(201);
    await until(async () => (await position()) === before + qty || undefined, 'the position');
  };

  it("a take-profit's partial fill cuts the stop to what is left, its last fill cancels the stop, and the position is flat", async () => {
    await hold(300);
    const ws = new WebSocket(`${t.wsUrl}?token=${trader}`);
    const pushed: BracketJson[] = [];
    ws.on('message', (data, binary) => {
      const m = binary ? undefined : (JSON.parse(String(data)) as { type: string; bracket?: BracketJson });
      if (m?.type === 'bracket' && m.bracket) pushed.push(m.bracket);
    });
    await new Promise((r) => ws.once('open', r));
    await new Promise((r) => setTimeout(r, 100));
    const body = {
      clientId: `oco-${++n}`,
      ticker: 'PETR4',
      qty: 300,
      takeProfit: 39,
      stopPrice: 38,
      stopLimit: 37.9,
    };
    const r = await api(trader, 'POST', '/api/v1/brackets', body);
    expect(r.body).toMatchObject({ created: true });
    const b = r.body.bracket as BracketJson;
    expect(b).toMatchObject({ state: 'active', side: 'long', qty: 300 });
    const tp = await order(b.takeProfitOrderId as number);
    const sl = await order(b.stopLossOrderId as number);
    expect([tp.side, tp.type, tp.price, tp.qty]).toEqual(['sell', 'limit', 39, 300]);
    expect([sl.side, sl.type, sl.stopPrice, sl.price, sl.qty]).toEqual(['sell', 'stop_limit', 38, 37.9, 300]);
    await until(
      async () => ((await order(tp.id)).state === 'new' && (await order(sl.id)).state === 'new') || undefined,
      'both legs working',
    );
    // The same request again is the same bracket, nothing sent again.
    const again = await api(trader, 'POST', '/api/v1/brackets', body);
    expect([again.status, (again.body.bracket as BracketJson).id]).toEqual([200, b.id]);

    sim().fillOrder(BigInt(tp.localOrderId as string), 100, 39);
    await until(async () => (await order(sl.id)).qty === 200 || undefined, 'the stop cut to 200');
    expect((await order(sl.id)).state).toBe('new');
    expect(await position()).toBe(200);

    sim().fillOrder(BigInt(tp.localOrderId as string), 200, 39);
    await until(async () => (await order(sl.id)).state === 'canceled' || undefined, 'the stop cancelled');
    const closed = await until(async () => {
      const x = await bracket(b.id);
      return x?.state === 'closed' ? x : undefined;
    }, 'the bracket closed');
    expect(closed.reason).toBe('take_profit');
    expect((await order(tp.id)).state).toBe('filled');
    expect(await position()).toBe(0);
    await until(
      () => pushed.some((x) => x.id === b.id && x.state === 'closed') || undefined,
      'the closed bracket pushed',
    );
    ws.close();
  });

  it('refuses a bracket beyond the position or on the wrong side, and cancels one with both legs', async () => {
    await hold(100);
    const base = { ticker: 'PETR4', takeProfit: 39, stopPrice: 38, stopLimit: 37.9 };
    const beyond = await api(trader, 'POST', '/api/v1/brackets', { ...base, clientId: `x-${++n}`, qty: 200 });
    expect([beyond.status, beyond.body.error]).toEqual([422, 'beyond_position']);
    const wrong = await api(trader, 'POST', '/api/v1/brackets', {
      ...base,
      clientId: `x-${++n}`,
      takeProfit: 38.2,
    });
    expect([wrong.status, wrong.body.error]).toEqual([422, 'bad_bracket']);
    const malformed = await api(trader, 'POST', '/api/v1/brackets', {
      ...base,
      clientId: `x-${++n}`,
      takeProfit: 'high',
    });
    expect(malformed.status).toBe(400);
    const r = await api(trader, 'POST', '/api/v1/brackets', { ...base, clientId: `x-${++n}` });
    expect(r.status).toBe(201);
    const b = r.body.bracket as BracketJson;
    const c = await api(trader, 'POST', `/api/v1/brackets/${b.id}/cancel`);
    expect(c.status).toBe(202);
    await until(
      async () =>
        ((await order(b.takeProfitOrderId as number)).state === 'canceled' &&
          (await order(b.stopLossOrderId as number)).state === 'canceled') ||
        undefined,
      'both legs cancelled',
    );
    expect((await bracket(b.id))?.state).toBe('canceled');
    expect((await api(trader, 'POST', `/api/v1/brackets/${b.id}/cancel`)).body.error).toBe('bracket_closed');
    // A flatten of the ticker takes the bracket's legs with it and leaves nothing working.
    const f = await api(trader, 'POST', '/api/v1/brackets', { ...base, clientId: `x-${++n}` });
    const fb = f.body.bracket as BracketJson;
    const flat = await api(trader, 'POST', '/api/v1/positions/flatten', {
      clientOrderId: `flat-${++n}`,
      ticker: 'PETR4',
    });
    expect(flat.status).toBe(200);
    await until(async () => (await position()) === 0 || undefined, 'flat');
    expect((await bracket(fb.id))?.state).toBe('canceled');
    expect((await bracket(fb.id))?.reason).toBe('flattened');
    const working = (await api(trader, 'GET', '/api/v1/orders?working=true')).body.orders as OrderJson[];
    expect(working).toEqual([]);
  });
});
