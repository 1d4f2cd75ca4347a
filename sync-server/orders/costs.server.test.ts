import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { CostsAnswer, DayPnl, OrderJson, PositionJson } from '../shared/orders.ts';
import { b3Now } from '../testing/market.ts';
import { restClient } from '../testing/rest.ts';
import { backends, login, startTestServer, type TestServer } from '../testing/server.ts';
import { until } from '../testing/until.ts';

// Costs end to end: an admin sets an account's schedule over REST, orders fill in parts through
// the simulator, and the positions (REST and the account push) carry their costs and net P&L,
// the same after a restart folds the stored fills again — on PGlite and PostgreSQL.

const ACCOUNT = 'COST-1';
const SCHEDULE = { brokerage: 'per_order', brokerageCents: 490, equitiesFeePpm: 250, futuresFeeCents: 30 };
const LIMITS = {
  maxOrderQty: 10_000,
  maxOrderNotionalCents: 1_000_000_000,
  maxPositionQty: 50_000,
  maxOpenOrders: 500,
  dailyLossLimitCents: 5_000_000,
  priceBandPct: 5,
  ordersPerSecond: 1_000,
  orderBurst: 1_000,
};
type Json = Record<string, unknown>;
interface Positions {
  realizedTodayCents: number;
  costsTodayCents: number;
  positions: PositionJson[];
}

describe.each(backends())('costs on %s', (backend) => {
  let t: TestServer;
  const tokens: Record<string, string> = {};
  let n = 0;

  const api = restClient<Json>(() => t.url, tokens);
  const sim = () => t.server.connector.sim as NonNullable<TestServer['server']['connector']['sim']>;
  const order = async (id: number) =>
    (await api('admin', 'GET', `/api/v1/orders/${id}`)).body.order as OrderJson;
  /** A limit order held by the simulator, then filled in the parts given (quantity, price). */
  const fillInParts = async (
    ticker: string,
    side: 'buy' | 'sell',
    price: number,
    parts: readonly [number, number][],
  ) => {
    const qty = parts.reduce((s, [q]) => s + q, 0);
    const r = await api('trader', 'POST', '/api/v1/orders', {
      clientOrderId: `cost-${++n}`,
      ticker,
      side,
      type: 'limit',
      price,
      qty,
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const id = (r.body.order as OrderJson).id;
    await until(async () => (await order(id)).state === 'new', `order ${id} new`);
    const local = BigInt((await order(id)).localOrderId as string);
    let filled = 0;
    for (const [q, p] of parts) {
      sim().fillOrder(local, q, p);
      filled += q;
      await until(async () => (await order(id)).filledQty === filled, `order ${id} filled ${filled}`);
    }
  };
  const positions = async () =>
    (await api('trader', 'GET', '/api/v1/positions')).body as unknown as Positions;
  const positionOf = async (ticker: string) =>
    (await positions()).positions.find((p) => p.ticker === ticker) as PositionJson;

  beforeAll(async () => {
    t = await startTestServer(backend);
    sim().setRate(0);
    sim().resetOrders();
    sim().setOrderMode('hold');
    tokens.admin = await login(t.url);
    await until(() => t.server.orders?.isReady, 'orders reconciled');
    expect(
      (await api('admin', 'POST', '/api/v1/accounts', { id: ACCOUNT, brokerId: 1982, name: ACCOUNT })).status,
    ).toBe(201);
    expect((await api('admin', 'PUT', `/api/v1/risk/config/${ACCOUNT}`, LIMITS)).status).toBe(200);
    const u = await api('admin', 'POST', '/api/v1/users', {
      username: 'trader',
      password: 'trader-password',
      role: 'trader',
    });
    await api('admin', 'PUT', `/api/v1/users/${(u.body.user as { userId: number }).userId}/account`, {
      accountId: ACCOUNT,
    });
    tokens.trader = await login(t.url, 'trader', 'trader-password');
    sim().injectTrade({
      ticker: 'PETR4',
      exchange: 'B',
      date: b3Now(),
      price: 38.5,
      qty: 100,
      tradeNumber: 1,
    });
    sim().injectTrade({
      ticker: 'WINZ25',
      exchange: 'F',
      date: b3Now(),
      price: 128_000,
      qty: 1,
      tradeNumber: 1,
    });
    await until(() => t.server.market.quote('WINZ25')?.last === 128_000, 'the last WIN trade');
  }, 60_000);
  afterAll(async () => {
    t?.server.connector.sim?.resetOrders();
    t?.server.connector.sim?.setOrderMode('match');
    await t?.close();
  });

  it('a schedule is read by the account’s users and set by admins only, its body checked field by field', async () => {
    expect((await api('trader', 'GET', '/api/v1/costs')).body).toEqual({
      account: ACCOUNT,
      schedule: { brokerage: 'per_order', brokerageCents: 0, equitiesFeePpm: 230, futuresFeeCents: 25 },
      set: false,
      since: null,
    });
    const put = (who: string | null, body: unknown, account = ACCOUNT) =>
      api(who, 'PUT', `/api/v1/costs/${account}`, body);
    expect((await put(null, SCHEDULE)).status).toBe(401);
    expect((await put('trader', SCHEDULE)).status).toBe(403);
    expect((await put('admin', SCHEDULE, 'NOPE-9')).body).toMatchObject({ error: 'unknown_account' });
    for (const [bad, says] of [
      [{ ...SCHEDULE, brokerageCents: -1 }, 'brokerageCents: may not be negative'],
      [{ ...SCHEDULE, brokerageCents: 4.9 }, 'brokerageCents: a whole number of centavos'],
      [
        { ...SCHEDULE, equitiesFeePpm: 0.023 },
        'equitiesFeePpm: a whole number of millionths of the notional',
      ],
      [{ ...SCHEDULE, equitiesFeePpm: 20_000 }, 'equitiesFeePpm: at most 10000 (1 %)'],
      [{ ...SCHEDULE, brokerage: 'per_trade' }, "brokerage: must be 'per_order' or 'per_unit'"],
      [{ ...SCHEDULE, futuresFeeCents: undefined }, 'futuresFeeCents: a whole number of centavos'],
      [{ ...SCHEDULE, extra: 1 }, 'extra'],
    ] as const) {
      const r = await put('admin', bad);
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.body.error).toBe('invalid_body');
      expect(r.body.message).toContain(says);
    }
    // Nothing refused was stored.
    expect((await api('trader', 'GET', '/api/v1/costs')).body.set).toBe(false);
    const set = await put('admin', SCHEDULE);
    expect(set.status).toBe(200);
    const read = (await api('trader', 'GET', '/api/v1/costs')).body as unknown as CostsAnswer;
    expect(read).toEqual({ account: ACCOUNT, schedule: SCHEDULE, set: true, since: expect.any(String) });
    const audit = await api('admin', 'GET', '/api/v1/audit?action=cost_schedule.update');
    expect(JSON.stringify(audit.body)).toContain('cost_schedule.update');
  });

  it('fills are charged by the schedule: per-order brokerage once however an order is split, fees per market, net beside gross', async () => {
    const ws = new WebSocket(`${t.wsUrl}?token=${tokens.trader}`);
    const pushed: { position: PositionJson; day: DayPnl }[] = [];
    ws.on('message', (data, binary) => {
      const m = binary
        ? undefined
        : (JSON.parse(String(data)) as { type: string; position: PositionJson; day: DayPnl });
      if (m?.type === 'position') pushed.push(m);
    });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    await new Promise((r) => setTimeout(r, 100));

    // PETR4: bought 300 in two fills, sold 300 in one, at R$ 0,10 more.
    await fillInParts('PETR4', 'buy', 38.5, [
      [100, 38.5],
      [200, 38.5],
    ]);
    await fillInParts('PETR4', 'sell', 38.6, [[300, 38.6]]);
    // Fees 0,0250 % a fill, rounded: 96,25 → 96; 192,5 → 193; 289,5 → 290. Brokerage: 2 orders.
    const petr = await positionOf('PETR4');
    expect(petr).toMatchObject({ qty: 0, realizedCents: 3_000, costsCents: 2 * 490 + 96 + 193 + 290 });
    expect(petr.netCents).toBe(3_000 - 1_559);

    // WIN: 3 contracts bought in three fills, still open; R$ 0,30 a contract, one brokerage.
    await fillInParts('WINZ25', 'buy', 128_000, [
      [1, 128_000],
      [1, 128_000],
      [1, 128_000],
    ]);
    const win = await positionOf('WINZ25');
    expect(win).toMatchObject({ qty: 3, costsCents: 490 + 90, unrealizedCents: 0 });
    expect(win.netCents).toBe(-580);

    const all = await positions();
    expect(all.realizedTodayCents).toBe(3_000);
    expect(all.costsTodayCents).toBe(1_559 + 580);
    // The push carries the same position and the day so far.
    const last = await until(
      () => pushed.find((m) => m.position.ticker === 'WINZ25' && m.position.qty === 3),
      'the WIN position pushed',
    );
    expect(last.position).toEqual(win);
    expect(last.day).toEqual({ realizedCents: 3_000, costsCents: 2_139 });
    ws.close();
  });

  it('a new schedule charges the fills from then on; a restart charges the stored fills as they were', async () => {
    const before = await positions();
    expect(
      (
        await api('admin', 'PUT', `/api/v1/costs/${ACCOUNT}`, {
          ...SCHEDULE,
          brokerage: 'per_unit',
          brokerageCents: 10,
        })
      ).status,
    ).toBe(200);
    // One more WIN contract: R$ 0,10 brokerage for the unit and R$ 0,30 of fees.
    await fillInParts('WINZ25', 'buy', 128_000, [[1, 128_000]]);
    expect((await positionOf('WINZ25')).costsCents).toBe(580 + 10 + 30);
    const now = await positions();
    expect(now.costsTodayCents).toBe(before.costsTodayCents + 40);

    t = await t.restart();
    tokens.trader = await login(t.url, 'trader', 'trader-password');
    await until(() => t.server.orders?.isReady, 'orders reconciled after the restart');
    const again = await positions();
    const strip = (p: Positions) =>
      p.positions.map(({ lastPrice: _l, unrealizedCents: _u, netCents: _n, ...rest }) => rest);
    expect(strip(again)).toEqual(strip(now));
    expect(again.costsTodayCents).toBe(now.costsTodayCents);
  });
});
