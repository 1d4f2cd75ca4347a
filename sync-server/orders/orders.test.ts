import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { OrderJson, PositionJson } from '../shared/orders.ts';
import { b3Now } from '../testing/market.ts';
import { metric } from '../testing/metrics.ts';
import { restClient } from '../testing/rest.ts';
import { backends, login, startTestServer, type TestServer } from '../testing/server.ts';
import { until } from '../testing/until.ts';
import { requestHash } from './manager.ts';

// Orders end to end: REST → risk → write-ahead → koffi → the simulator library → order
// callback → capture ring → GetOrderDetails → transition table → database → WS push, on the
// real database (PGlite, and PostgreSQL when DATABASE_URL is set).

type Json = Record<string, unknown> & { order?: OrderJson; error?: string };
interface Pushed {
  type: string;
  order?: OrderJson;
  position?: PositionJson;
}

const ACCOUNT = 'SIM-0001';
const OTHER = 'SIM-0002';
/** The kill switch's account, with a trader of its own. */
const HALTED = 'SIM-0003';
// The simulated broker's journal (native/sim/orders.c): one S line per order the DLL took, written
// as SendOrder takes it. Read at the simulator's first use, so set before any.
const JOURNAL = join(mkdtempSync(join(tmpdir(), 'tape-orders-')), 'broker.journal');
process.env.TAPE_SIM_BROKER_JOURNAL = JOURNAL;
/** The S lines of an account, in the order the DLL took them. */
const sendsOf = (account: string) =>
  readFileSync(JOURNAL, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('S ') && l.split(' ')[4] === `=${account}`);
const LIMITS = {
  maxOrderQty: 10_000,
  maxOrderNotionalCents: 100_000_000,
  maxPositionQty: 50_000,
  maxOpenOrders: 500,
  dailyLossLimitCents: 5_000_000,
  priceBandPct: 5,
  ordersPerSecond: 1_000,
  orderBurst: 1_000,
};

describe.each(backends())('orders on %s', (backend) => {
  let t: TestServer;
  const tokens: Record<string, string> = {};
  const ids: Record<string, number> = {};
  let n = 0;
  const nextId = (p = 'o') => `${p}-${++n}`;
  /** A limit buy of PETR4 under a new clientOrderId. */
  const limitBuy = (price: number, prefix = 'o', qty = 100) => ({
    clientOrderId: nextId(prefix),
    ticker: 'PETR4',
    side: 'buy' as const,
    type: 'limit' as const,
    price,
    qty,
  });
  /** What a process that dies mid-order leaves behind: the row it wrote ahead (as submit() does)… */
  const writeAhead = (r: ReturnType<typeof limitBuy>) =>
    t.server.orderStore.insertPending({
      ...r,
      accountId: ACCOUNT,
      userId: ids.trader1 as number,
      requestHash: requestHash(r),
      exchange: 'B',
    });
  /** …and the order the DLL took from it, its local id never stored. */
  const sendBehindTape = (r: ReturnType<typeof limitBuy>) =>
    t.server.connector.sendOrder({
      ...r,
      account: { brokerId: 1982, accountId: ACCOUNT },
      password: t.config.profitDll.routingPassword,
      exchange: 'B',
    });

  const api = restClient<Json>(() => t.url, tokens);
  const sim = () => t.server.connector.sim as NonNullable<TestServer['server']['connector']['sim']>;
  const order = async (id: number) =>
    (await api('admin', 'GET', `/api/v1/orders/${id}`)).body.order as OrderJson;
  const untilState = (id: number, state: string) =>
    until(async () => ((await order(id)).state === state ? order(id) : undefined), `order ${id} ${state}`);
  const positionOf = async (who: string, ticker: string) => {
    const r = await api(who, 'GET', '/api/v1/positions');
    return (r.body.positions as PositionJson[]).find((p) => p.ticker === ticker)?.qty ?? 0;
  };
  const socket = async (who: string) => {
    const got: Pushed[] = [];
    const ws = new WebSocket(`${t.wsUrl}?token=${tokens[who]}`);
    ws.on('message', (data, binary) => {
      if (!binary) got.push(JSON.parse(String(data)) as Pushed);
    });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    // The account topic is joined after a lookup: wait for the server to have done it.
    await new Promise((r) => setTimeout(r, 100));
    return { ws, got };
  };

  beforeAll(async () => {
    t = await startTestServer(backend);
    sim().setRate(0); // a still market: the last trade is the one the test prints
    sim().resetOrders();
    sim().setOrderMode('match');
    tokens.admin = await login(t.url);
    await until(() => t.server.orders?.isReady, 'orders reconciled');
    for (const id of [ACCOUNT, OTHER, HALTED])
      expect((await api('admin', 'POST', '/api/v1/accounts', { id, brokerId: 1982, name: id })).status).toBe(
        201,
      );
    for (const [name, role, account] of [
      ['trader1', 'trader', ACCOUNT],
      ['viewer1', 'viewer', ACCOUNT],
      ['trader2', 'trader', OTHER],
      ['trader3', 'trader', HALTED],
      ['loner', 'trader', null],
    ] as const) {
      const r = await api('admin', 'POST', '/api/v1/users', {
        username: name,
        password: `${name}-password`,
        role,
      });
      expect(r.status).toBe(201);
      ids[name] = (r.body.user as { userId: number }).userId;
      if (account) await api('admin', 'PUT', `/api/v1/users/${ids[name]}/account`, { accountId: account });
      tokens[name] = await login(t.url, name, `${name}-password`);
    }
    for (const account of [ACCOUNT, OTHER, HALTED])
      expect((await api('admin', 'PUT', `/api/v1/risk/config/${account}`, LIMITS)).status).toBe(200);
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
    // The simulator library is process-wide and its orders outlive a logout: leave none
    // working for the next test file that runs in this process.
    t?.server.connector.sim?.resetOrders();
    t?.server.connector.sim?.setOrderMode('match');
    await t?.close();
  });

  it('an order entered over REST is checked, sent to the simulator, filled, and the position reaches WS', async () => {
    const mine = await socket('trader1');
    const theirs = await socket('trader2');
    const r = await api('trader1', 'POST', '/api/v1/orders', {
      clientOrderId: nextId(),
      ticker: 'PETR4',
      side: 'buy',
      type: 'market',
      qty: 100,
    });
    expect(r.status).toBe(201);
    const id = (r.body.order as OrderJson).id;
    const filled = await until(
      () =>
        mine.got.find((m) => m.type === 'order' && m.order?.id === id && m.order.state === 'filled')?.order,
      'the filled order pushed over WS',
    );
    const pushed = await until(
      () => mine.got.findLast((m) => m.type === 'position' && m.position?.ticker === 'PETR4')?.position,
      'the position pushed over WS',
    );
    expect(filled.filledQty).toBe(100);
    expect(pushed.qty).toBe(100);
    expect(pushed.costCents).toBe(Math.round((filled.avgFillPrice as number) * 100 * 100));
    expect(pushed.averagePrice).toBeCloseTo(filled.avgFillPrice as number, 6);
    // Marked to the last trade, in integer centavos.
    expect(pushed.unrealizedCents).toBe(38.5 * 100 * 100 - pushed.costCents);
    const rest = await api('trader1', 'GET', '/api/v1/positions');
    expect((rest.body.positions as PositionJson[]).find((p) => p.ticker === 'PETR4')).toEqual(pushed);
    const events = await api('trader1', 'GET', `/api/v1/orders/${id}/events`);
    const names = (events.body.events as { event: string }[]).map((e) => e.event);
    expect(names[0]).toBe('submitted');
    expect(names.at(-1)).toBe('fill');
    const fills = (await api('trader1', 'GET', '/api/v1/fills?limit=1')).body.fills as {
      orderId: number;
      qty: number;
      price: number;
    }[];
    expect(fills).toEqual([expect.objectContaining({ orderId: id, qty: 100, price: filled.avgFillPrice })]);
    // Pushed to the owning account's sockets only.
    expect(theirs.got.some((m) => m.type === 'order' || m.type === 'position')).toBe(false);
    mine.ws.close();
    theirs.ws.close();
  });

  it('concurrent duplicate submits create one order and call the DLL once', async () => {
    sim().setOrderMode('hold');
    const body = limitBuy(38.2, 'dup');
    const sentBefore = sim().orderStats().sent;
    const replies = await Promise.all(
      Array.from({ length: 8 }, () => api('trader1', 'POST', '/api/v1/orders', body)),
    );
    expect(replies.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    expect(new Set(replies.map((r) => (r.body.order as OrderJson).id)).size).toBe(1);
    expect(sim().orderStats().sent).toBe(sentBefore + 1);
    const changed = await api('trader1', 'POST', '/api/v1/orders', { ...body, qty: 200 });
    expect(changed.status).toBe(409);
    expect(changed.body.error).toBe('duplicate_client_order_id');
    expect(sim().orderStats().sent).toBe(sentBefore + 1);
    sim().setOrderMode('match');
  });

  it('refuses with the named reason what risk refuses, and the kill switch blocks and cancels', async () => {
    sim().setOrderMode('hold');
    const post = (o: Record<string, unknown>) =>
      api('trader1', 'POST', '/api/v1/orders', {
        clientOrderId: nextId('risk'),
        ticker: 'PETR4',
        side: 'buy',
        ...o,
      });
    const sentBefore = sim().orderStats().sent;
    const cases: [Record<string, unknown>, string][] = [
      [{ type: 'limit', price: 38.505, qty: 100 }, 'price_off_tick_grid'],
      [{ type: 'limit', price: 38.5, qty: 150 }, 'quantity_not_lot_multiple'],
      [{ type: 'limit', price: 45, qty: 100 }, 'price_outside_band'],
      [{ type: 'limit', price: 38.5, qty: 20_000 }, 'max_order_quantity'],
      [{ ticker: 'ZZZZ3', type: 'limit', price: 38.5, qty: 100 }, 'unknown_instrument'],
    ];
    for (const [o, reason] of cases) {
      const r = await post(o);
      expect(r.status, reason).toBe(422);
      expect(r.body.error).toBe(reason);
      expect((r.body.order as OrderJson).state).toBe('rejected');
    }
    expect(sim().orderStats().sent).toBe(sentBefore);

    // What the broker rejects: a retry answers its code, with the broker's own words as the message.
    sim().setOrderMode('reject');
    const refused = limitBuy(38.3, 'risk');
    const first = await api('trader1', 'POST', '/api/v1/orders', refused);
    expect(first.status).toBe(201);
    expect(await untilState((first.body.order as OrderJson).id, 'rejected')).toMatchObject({
      rejectReason: 'broker_rejected',
    });
    expect(await api('trader1', 'POST', '/api/v1/orders', refused)).toMatchObject({
      status: 422,
      body: { error: 'broker_rejected', message: 'rejected by the simulated broker' },
    });
    sim().setOrderMode('hold');

    const working = await post({ type: 'limit', price: 38.3, qty: 100 });
    const id = (working.body.order as OrderJson).id;
    await untilState(id, 'new');
    const kill = await api('admin', 'POST', `/api/v1/risk/kill-switch/${ACCOUNT}`, {
      on: true,
      cancelAll: true,
    });
    expect(kill.status).toBe(200);
    expect(kill.body.cancelRequested).toBeGreaterThanOrEqual(1);
    await untilState(id, 'canceled');
    const blocked = await post({ type: 'limit', price: 38.3, qty: 100 });
    expect(blocked.status).toBe(422);
    expect(blocked.body.error).toBe('kill_switch');
    // Saving limits leaves the switch alone: only its own audited route turns it off.
    expect((await api('admin', 'PUT', `/api/v1/risk/config/${ACCOUNT}`, LIMITS)).status).toBe(200);
    expect((await post({ type: 'limit', price: 38.3, qty: 100 })).body.error).toBe('kill_switch');
    await api('admin', 'POST', `/api/v1/risk/kill-switch/${ACCOUNT}`, { on: false });
    const audit = await api('admin', 'GET', `/api/v1/audit?target=account:${ACCOUNT}`);
    const actions = (audit.body.entries as { action: string }[]).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['kill_switch.on', 'kill_switch.off']));
    sim().setOrderMode('match');
  });

  it('the kill switch mid-stream: once it answered, no order of the account reaches the DLL or stays working', async () => {
    sim().setOrderMode('hold'); // what the DLL takes works until canceled
    const N = 80;
    const CONCURRENCY = 19; // under the 20 submissions of one account in flight
    const SWITCH_AFTER = 20; // answers
    const sendsBefore = sendsOf(HALTED).length;
    const answers: Awaited<ReturnType<typeof api>>[] = [];
    let started = 0;
    let kill: Promise<{ at: number; sends: number; inFlight: number }> | undefined;
    const flip = async () => {
      const inFlight = started - answers.length;
      const r = await api('admin', 'POST', `/api/v1/risk/kill-switch/${HALTED}`, {
        on: true,
        cancelAll: true,
      });
      const sends = sendsOf(HALTED).length;
      expect(r.status).toBe(200);
      return { at: r.at, sends, inFlight };
    };
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (started < N) {
          started++;
          answers.push(await api('trader3', 'POST', '/api/v1/orders', limitBuy(38.0, 'halt')));
          if (answers.length === SWITCH_AFTER) kill = flip();
        }
      }),
    );
    const switched = await (kill as NonNullable<typeof kill>);
    const late = answers.filter((a) => a.at > switched.at);
    const acceptedLate = late.filter((a) => a.status === 201);
    const accepted = answers.filter((a) => a.status === 201);
    // The DLL holds no working order of the account once the switch's cancels are done…
    const WORKING = new Set([0, 1, 5, 6, 10, 14]); // new, partial, replaced, pending cancel/new/replace
    const working = () =>
      t.server.connector
        .enumerateOrders({ brokerId: 1982, accountId: HALTED })
        .filter((o) => WORKING.has(o.status)).length;
    const settled = await until(() => working() === 0, 'no order of the account working at the broker').then(
      () => 0,
      () => working(),
    );
    const figures = {
      submitted: N,
      inFlightWhenSwitched: switched.inFlight,
      answeredAfterTheSwitch: late.length,
      acceptedAfterTheSwitch: acceptedLate.length,
      sLinesAfterTheSwitch: sendsOf(HALTED).length - switched.sends,
      workingAtTheBroker: settled,
    };
    console.log('kill-switch', JSON.stringify(figures));
    expect(late.length, 'the stream went on past the switch').toBeGreaterThan(0);
    // (a) every submit answered after the switch's answer was refused by it;
    expect(late.filter((a) => a.status !== 422 || a.body.error !== 'kill_switch')).toEqual([]);
    // (c) nothing reached the DLL after it answered;
    expect(figures.sLinesAfterTheSwitch).toBe(0);
    // (b) …nor any order of the account at all, in Tape's view either.
    expect(figures.workingAtTheBroker).toBe(0);
    await until(
      async () =>
        (
          (await api('admin', 'GET', `/api/v1/orders?account=${HALTED}&working=true`)).body
            .orders as OrderJson[]
        ).length === 0,
      'no working order of the account in Tape',
    );
    // Every order the DLL took is one that was answered as accepted, once.
    expect(sendsOf(HALTED).length - sendsBefore).toBe(accepted.length);
    expect((await api('admin', 'POST', `/api/v1/risk/kill-switch/${HALTED}`, { on: false })).status).toBe(
      200,
    );
    sim().setOrderMode('match');
  });

  it('modifies and cancels a working order through the DLL, each step recorded', async () => {
    sim().setOrderMode('hold');
    const r = await api('trader1', 'POST', '/api/v1/orders', {
      clientOrderId: nextId('mod'),
      ticker: 'PETR4',
      side: 'buy',
      type: 'limit',
      price: 38.4,
      qty: 200,
    });
    const id = (r.body.order as OrderJson).id;
    await untilState(id, 'new');
    expect(
      (await api('trader1', 'POST', `/api/v1/orders/${id}/modify`, { price: 38.45, qty: 300 })).status,
    ).toBe(202);
    await until(async () => (await order(id)).price === 38.45, 'the change applied');
    expect(await order(id)).toMatchObject({ state: 'new', qty: 300, price: 38.45 });
    // Outside the band: refused before it reaches the DLL.
    const far = await api('trader1', 'POST', `/api/v1/orders/${id}/modify`, { price: 45 });
    expect(far.status).toBe(422);
    expect(far.body.error).toBe('price_outside_band');
    expect((await api('trader1', 'POST', `/api/v1/orders/${id}/cancel`)).status).toBe(202);
    await untilState(id, 'canceled');
    expect((await api('trader1', 'POST', `/api/v1/orders/${id}/cancel`)).status).toBe(409);
    const events = await api('trader1', 'GET', `/api/v1/orders/${id}/events`);
    const names = (events.body.events as { event: string }[]).map((e) => e.event);
    expect(names.slice(0, 4)).toEqual(['submitted', 'accepted', 'replace_requested', 'replaced']);
    // The DLL's "pending cancel" may be read or already gone by the time it is read.
    expect(names.slice(4)).toEqual(expect.arrayContaining(['canceled']));
    expect(names.at(-1)).toBe('canceled');
    sim().setOrderMode('match');
  });

  /** Prints a PETR4 trade at `price` and waits until the server has it as the last trade. */
  let printed = 1_000;
  const print = async (price: number) => {
    const tradeNumber = ++printed;
    sim().injectTrade({ ticker: 'PETR4', exchange: 'B', date: b3Now(), price, qty: 100, tradeNumber });
    await until(() => t.server.market.quote('PETR4')?.tradeNumber === tradeNumber, `trade ${tradeNumber}`);
  };
  const round = (p: number) => Math.round(p * 100) / 100;
  /** The book's ask: a buy limit at or above it is marketable. */
  const ask = () => until(() => t.server.market.quote('PETR4')?.top?.ask, 'the PETR4 ask');

  it('a stop-limit entered over REST waits, triggers at the first trade through its stop, and fills at or better than its limit', async () => {
    const mine = await socket('trader1');
    const stopPrice = 38.6;
    // Marketable once triggered, whatever the book's ask is; the band measures the stop.
    const price = round(Math.max(stopPrice, await ask()) + 0.05);
    const body = {
      clientOrderId: nextId('stop'),
      ticker: 'PETR4',
      side: 'buy',
      type: 'stop_limit',
      qty: 200,
      price,
      stopPrice,
    };
    const r = await api('trader1', 'POST', '/api/v1/orders', body);
    expect(r.status).toBe(201);
    const id = (r.body.order as OrderJson).id;
    expect(r.body.order).toMatchObject({ type: 'stop_limit', price, stopPrice, triggeredAt: null });
    expect(await untilState(id, 'new')).toMatchObject({ triggeredAt: null, filledQty: 0 });
    // A repeat with another stop price is another order under the same id.
    const other = await api('trader1', 'POST', '/api/v1/orders', { ...body, stopPrice: 38.65 });
    expect(other.body.error).toBe('duplicate_client_order_id');
    await print(38.59); // one tick short of the stop
    await print(38.6); // through it (at it)
    const filled = await untilState(id, 'filled');
    expect(filled.triggeredAt).not.toBeNull();
    expect(filled.avgFillPrice as number).toBeLessThanOrEqual(price);
    const names = (
      (await api('trader1', 'GET', `/api/v1/orders/${id}/events`)).body.events as { event: string }[]
    ).map((e) => e.event);
    expect(names).toEqual(['submitted', 'accepted', 'triggered', 'fill']);
    // The account push carries the stop and its trigger.
    const pushed = await until(
      () =>
        mine.got.find((m) => m.type === 'order' && m.order?.id === id && m.order.triggeredAt !== null)?.order,
      'the triggered stop pushed over WS',
    );
    expect(pushed).toMatchObject({ stopPrice, type: 'stop_limit' });
    mine.ws.close();
    await print(38.5);
  });

  it('refuses a malformed stop-limit with a 400 and a risky one with its reason; a waiting stop is changed and canceled', async () => {
    const base = { ticker: 'PETR4', side: 'sell', type: 'stop_limit', qty: 100, price: 38, stopPrice: 38.1 };
    const post = (o: Record<string, unknown>) =>
      api('trader1', 'POST', '/api/v1/orders', { clientOrderId: nextId('stopbad'), ...o });
    const noStop = await post({ ...base, stopPrice: undefined });
    expect(noStop.status).toBe(400);
    expect(noStop.body.message).toMatch(/stopPrice/);
    expect((await post({ ...base, type: 'limit' })).status).toBe(400);
    const inverted = await post({ ...base, price: 38.2 });
    expect([inverted.status, inverted.body.error]).toEqual([422, 'stop_limit_inverted']);
    // 36.50 is 5.2 % under the last trade (38.50): the band measures the stop, not the limit.
    const far = await post({ ...base, stopPrice: 36.5, price: 36.5 });
    expect([far.status, far.body.error]).toEqual([422, 'price_outside_band']);

    const r = await post(base);
    expect(r.status).toBe(201);
    const id = (r.body.order as OrderJson).id;
    await untilState(id, 'new');
    const moved = await api('trader1', 'POST', `/api/v1/orders/${id}/modify`, {
      stopPrice: 38.05,
      price: 37.95,
    });
    expect(moved.status).toBe(202);
    await until(async () => (await order(id)).stopPrice === 38.05, 'the stop moved');
    expect(await order(id)).toMatchObject({
      state: 'new',
      price: 37.95,
      stopPrice: 38.05,
      triggeredAt: null,
    });
    const wrong = await api('trader1', 'POST', `/api/v1/orders/${id}/modify`, { price: 38.1 });
    expect([wrong.status, wrong.body.error]).toEqual([422, 'stop_limit_inverted']);
    expect((await api('trader1', 'POST', `/api/v1/orders/${id}/cancel`)).status).toBe(202);
    expect(await untilState(id, 'canceled')).toMatchObject({ triggeredAt: null, filledQty: 0 });
    // A trade through the old stop after the cancel changes nothing.
    await print(38);
    expect(await order(id)).toMatchObject({ state: 'canceled', triggeredAt: null });
    await print(38.5);
  });

  it('property: partial fills in any sizes move the position by exactly their sum', async () => {
    sim().setOrderMode('hold');
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ lots: fc.integer({ min: 1, max: 3 }), ticks: fc.integer({ min: -3, max: 3 }) }),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
        fc.constantFrom('buy', 'sell'),
        async (fills, side) => {
          const total = fills.reduce((s, f) => s + f.lots * 100, 0);
          const before = await positionOf('trader1', 'PETR4');
          const r = await api('trader1', 'POST', '/api/v1/orders', {
            clientOrderId: nextId('prop'),
            ticker: 'PETR4',
            side,
            type: 'limit',
            price: 38.5,
            qty: total + 100,
          });
          const o = r.body.order as OrderJson;
          await untilState(o.id, 'new');
          for (const f of fills) {
            sim().fillOrder(BigInt(o.localOrderId as string), f.lots * 100, 38.5 + f.ticks * 0.01);
            await new Promise((res) => setTimeout(res, 5));
          }
          await until(async () => (await order(o.id)).filledQty === total, 'every fill recorded');
          await api('trader1', 'POST', `/api/v1/orders/${o.id}/cancel`);
          const closed = await untilState(o.id, 'canceled');
          expect(closed.filledQty).toBe(total);
          const after = await positionOf('trader1', 'PETR4');
          expect(after - before).toBe(side === 'buy' ? total : -total);
        },
      ),
      { numRuns: 4 },
    );
    sim().setOrderMode('match');
  });

  it('flattens over REST: the working order cancelled first, then one market order for the position, once', async () => {
    sim().setOrderMode('hold');
    const before = await positionOf('trader1', 'PETR4');
    // Long whatever the earlier tests left the account: the flatten then sells.
    const entryQty = 300 + Math.max(0, -before);
    const bought = await api('trader1', 'POST', '/api/v1/orders', { ...limitBuy(38.5, 'flat', entryQty) });
    const entry = bought.body.order as OrderJson;
    await untilState(entry.id, 'new');
    sim().fillOrder(BigInt(entry.localOrderId as string), entryQty, 38.5);
    await untilState(entry.id, 'filled');
    const working = (await api('trader1', 'POST', '/api/v1/orders', limitBuy(38.1, 'flat', 200))).body
      .order as OrderJson;
    await untilState(working.id, 'new');
    // Part of the working order fills before the flatten: the market order is for what is left.
    sim().fillOrder(BigInt(working.localOrderId as string), 100, 38.1);
    await until(async () => (await order(working.id)).filledQty === 100, 'the partial fill');
    const held = before + entryQty + 100;
    const id = nextId('flatten');
    const r = await api('trader1', 'POST', '/api/v1/positions/flatten', {
      clientOrderId: id,
      ticker: 'PETR4',
    });
    expect(r.status).toBe(200);
    expect((await order(working.id)).state).toBe('canceled');
    const [flat] = r.body.positions as {
      ticker: string;
      positionQty: number;
      order: OrderJson;
      created: boolean;
    }[];
    expect(flat).toMatchObject({ ticker: 'PETR4', positionQty: held, created: true });
    expect(flat?.order).toMatchObject({ clientOrderId: id, side: 'sell', type: 'market', qty: held });
    sim().fillOrder(BigInt(flat?.order.localOrderId as string), held, 38.45);
    await untilState(flat?.order.id as number, 'filled');
    expect(await positionOf('trader1', 'PETR4')).toBe(0);
    // The same request again: nothing more is sent.
    const sent = sim().orderStats().sent;
    const again = await api('trader1', 'POST', '/api/v1/positions/flatten', {
      clientOrderId: id,
      ticker: 'PETR4',
    });
    expect(again.status).toBe(200);
    expect((again.body.positions as { created: boolean; order: OrderJson }[])[0]).toMatchObject({
      created: false,
      order: { id: flat?.order.id },
    });
    expect(sim().orderStats().sent).toBe(sent);
    // Refusals name their reason.
    expect(
      (await api('trader1', 'POST', '/api/v1/positions/flatten', { clientOrderId: 'x', ticker: 'ZZZZ9' }))
        .body.error,
    ).toBe('unknown_ticker');
    expect((await api('trader1', 'POST', '/api/v1/positions/flatten', { clientOrderId: '.x' })).status).toBe(
      400,
    );
    expect((await api('viewer1', 'POST', '/api/v1/positions/flatten', { clientOrderId: 'v1' })).status).toBe(
      403,
    );
    sim().setOrderMode('match');
  });

  it('enforces roles and ownership on every order route', async () => {
    sim().setOrderMode('hold');
    const mine = await api('trader1', 'POST', '/api/v1/orders', {
      clientOrderId: nextId('authz'),
      ticker: 'PETR4',
      side: 'buy',
      type: 'limit',
      price: 38.1,
      qty: 100,
    });
    const id = (mine.body.order as OrderJson).id;
    const order = {
      clientOrderId: nextId('authz'),
      ticker: 'PETR4',
      side: 'buy',
      type: 'limit',
      price: 38.1,
      qty: 100,
    };
    const matrix: [string | null, string, string, unknown, number][] = [
      [null, 'GET', '/api/v1/orders', undefined, 401],
      ['viewer1', 'POST', '/api/v1/orders', order, 403],
      ['viewer1', 'GET', '/api/v1/orders', undefined, 200],
      ['viewer1', 'GET', `/api/v1/orders/${id}`, undefined, 200],
      ['viewer1', 'POST', `/api/v1/orders/${id}/cancel`, undefined, 403],
      ['viewer1', 'GET', '/api/v1/positions', undefined, 200],
      ['trader2', 'GET', `/api/v1/orders/${id}`, undefined, 404],
      ['trader2', 'POST', `/api/v1/orders/${id}/cancel`, undefined, 404],
      ['trader2', 'POST', `/api/v1/orders/${id}/modify`, { price: 38 }, 404],
      ['trader2', 'GET', `/api/v1/orders?account=${ACCOUNT}`, undefined, 403],
      ['loner', 'POST', '/api/v1/orders', order, 403],
      ['trader1', 'PUT', `/api/v1/risk/config/${ACCOUNT}`, LIMITS, 403],
      ['trader1', 'POST', `/api/v1/risk/kill-switch/${ACCOUNT}`, { on: true }, 403],
      ['trader1', 'POST', '/api/v1/accounts', { id: 'X-1', brokerId: 1, name: 'x' }, 403],
      ['trader1', 'GET', '/api/v1/audit', undefined, 403],
      ['admin', 'GET', `/api/v1/orders?account=${ACCOUNT}`, undefined, 200],
      ['admin', 'GET', '/api/v1/audit', undefined, 200],
      ['viewer1', 'GET', '/api/v1/fills', undefined, 200],
      ['trader2', 'GET', `/api/v1/fills?account=${ACCOUNT}`, undefined, 403],
      ['trader1', 'GET', '/api/v1/accounts', undefined, 403],
      ['admin', 'GET', '/api/v1/accounts', undefined, 200],
      // Creating an account again: the same details are a retry, other details never overwrite.
      ['admin', 'POST', '/api/v1/accounts', { id: ACCOUNT, brokerId: 1982, name: ACCOUNT }, 200],
      ['admin', 'POST', '/api/v1/accounts', { id: ACCOUNT, brokerId: 7, name: 'taken over' }, 409],
      ['admin', 'PUT', '/api/v1/users/999999/account', { accountId: ACCOUNT }, 404],
    ];
    for (const [who, method, path, body, status] of matrix) {
      expect((await api(who, method, path, body)).status, `${who} ${method} ${path}`).toBe(status);
    }
    expect((await order_(id)).state).toBe('new');
    sim().setOrderMode('match');
    async function order_(x: number) {
      return (await api('admin', 'GET', `/api/v1/orders/${x}`)).body.order as OrderJson;
    }
  });

  it('after a crash between the write-ahead and the DLL call, start-up reconciles without a second send', async () => {
    sim().setOrderMode('hold');
    // Written, never sent: the process died before calling the DLL.
    const lostRequest = limitBuy(38.31, 'crash');
    const lost = (await writeAhead(lostRequest)).order;
    // Written and taken by the DLL, but the process died before storing the DLL's id.
    const takenRequest = limitBuy(38.32, 'crash');
    const taken = (await writeAhead(takenRequest)).order;
    const localId = sendBehindTape(takenRequest);
    const sentBefore = sim().orderStats().sent;
    t = await t.restart();
    sim().setRate(0);
    await until(() => t.server.orders?.isReady, 'orders reconciled after the restart');
    const a = await untilState(lost.id, 'rejected');
    expect(a.rejectReason).toBe('not_sent');
    // The trader's app retries it: the stored order is the answer, its reason a code.
    const retry = await api('trader1', 'POST', '/api/v1/orders', lostRequest);
    expect(retry.status).toBe(422);
    expect(retry.body).toMatchObject({
      error: 'not_sent',
      message: expect.stringContaining('never resent'),
      order: { id: lost.id, state: 'rejected' },
    });
    const b = await untilState(taken.id, 'new');
    expect(b.localOrderId).toBe(localId.toString());
    expect(sim().orderStats().sent).toBe(sentBefore);
    sim().setOrderMode('match');
  });

  it('start-up reconciliation adopts a stop-limit the DLL took by its stop price, and it triggers after', async () => {
    const request = {
      clientOrderId: nextId('stopcrash'),
      ticker: 'PETR4',
      side: 'sell' as const,
      type: 'stop_limit' as const,
      qty: 100,
      price: 38.3,
      stopPrice: 38.4,
    };
    const row = (
      await t.server.orderStore.insertPending({
        ...request,
        accountId: ACCOUNT,
        userId: ids.trader1 as number,
        requestHash: requestHash(request),
        exchange: 'B',
      })
    ).order;
    const send = (stopPrice: number) =>
      t.server.connector.sendOrder({
        ...request,
        type: 'stopLimit',
        stopPrice,
        account: { brokerId: 1982, accountId: ACCOUNT },
        password: t.config.profitDll.routingPassword,
        exchange: 'B',
      });
    // Another terminal's stop with the same prices but its stop: not the one Tape wrote.
    send(38.45);
    const taken = send(38.4);
    t = await t.restart();
    sim().setRate(0);
    await until(() => t.server.orders?.isReady, 'orders reconciled after the restart');
    expect(await untilState(row.id, 'new')).toMatchObject({
      localOrderId: taken.toString(),
      triggeredAt: null,
    });
    await print(38.4);
    const filled = await untilState(row.id, 'filled');
    expect(filled.triggeredAt).not.toBeNull();
    expect(filled.avgFillPrice as number).toBeGreaterThanOrEqual(38.3);
    await print(38.5);
  });

  it('a trade made outside Tape moves the broker position: shown and flagged, and the risk check counts it', async () => {
    const held = async () =>
      ((await api('trader1', 'GET', '/api/v1/positions')).body.positions as PositionJson[]).find(
        (p) => p.ticker === 'PETR4',
      );
    const before = await held();
    const tapeQty = before?.tapeQty ?? 0;
    const brokerQty = before?.qty ?? 0;
    // Profit itself buys on the account: enough that the broker is long at least 1,000.
    const bought = 1_000 + Math.max(0, -brokerQty);
    const outside = sim().externalTrade(
      { brokerId: 1982, accountId: ACCOUNT },
      'PETR4',
      'B',
      'buy',
      bought,
      38.2,
    );
    const after = await until(async () => {
      const p = await held();
      return p?.qty === brokerQty + bought ? p : undefined;
    }, 'the broker position');
    expect(after).toMatchObject({ tapeQty, outside: true, broker: { qty: brokerQty + bought } });
    // Kept on the blotter as an order made outside Tape, filled.
    const listed = (await api('trader1', 'GET', '/api/v1/orders')).body.orders as OrderJson[];
    expect(listed.find((o) => o.localOrderId === outside.toString())).toMatchObject({
      external: true,
      state: 'filled',
      filledQty: bought,
    });
    // The difference is recorded.
    const audit = await until(async () => {
      const r = await api(
        'admin',
        'GET',
        `/api/v1/audit?target=${encodeURIComponent(`account:${ACCOUNT}:PETR4`)}`,
      );
      const entries = (r.body.entries ?? []) as { action: string }[];
      return entries.some((e) => e.action === 'position.difference') ? entries : undefined;
    }, 'the audit entry');
    expect(audit.length).toBeGreaterThan(0);
    // A limit 100 above the broker's position: a buy of 200 passes on Tape's own count, not on it.
    const limit = brokerQty + bought + 100;
    expect(tapeQty + 200).toBeLessThanOrEqual(limit);
    await api('admin', 'PUT', `/api/v1/risk/config/${ACCOUNT}`, { ...LIMITS, maxPositionQty: limit });
    try {
      const r = await api('trader1', 'POST', '/api/v1/orders', limitBuy(38.3, 'truth', 200));
      expect(r.status).toBe(422);
      expect(r.body.error).toBe('max_position');
    } finally {
      await api('admin', 'PUT', `/api/v1/risk/config/${ACCOUNT}`, LIMITS);
    }
  });

  it('the routing lost and back: orders wait, then what the broker did meanwhile is read before any is taken', async () => {
    const held = async () =>
      ((await api('trader1', 'GET', '/api/v1/positions')).body.positions as PositionJson[]).find(
        (p) => p.ticker === 'PETR4',
      );
    const qty = async () => (await held())?.qty ?? 0;
    const before = await qty();
    sim().setRoutingState(3); // broker disconnected
    await until(() => t.server.orders?.routingState === 'down' || undefined, 'the manager told');
    const refused = await api('trader1', 'POST', '/api/v1/orders', limitBuy(38.3, 'down'));
    expect(refused.status).toBe(503);
    expect(refused.body.error).toBe('broker_disconnected');
    // Meanwhile Profit buys 300 on the account; a disconnected DLL announces nothing of it.
    const outside = sim().externalTrade(
      { brokerId: 1982, accountId: ACCOUNT },
      'PETR4',
      'B',
      'buy',
      300,
      38.4,
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(await qty()).toBe(before);
    sim().setRoutingState(5);
    await until(() => t.server.orders?.routingState === 'up' || undefined, 'orders read again');
    expect(await qty()).toBe(before + 300);
    const listed = (await api('trader1', 'GET', '/api/v1/orders')).body.orders as OrderJson[];
    expect(listed.find((o) => o.localOrderId === outside.toString())).toMatchObject({
      external: true,
      state: 'filled',
    });
    const taken = await api('trader1', 'POST', '/api/v1/orders', limitBuy(38.3, 'up'));
    expect(taken.status).toBe(201);
  });

  it('an acknowledgement the DLL sends before start-up reconciliation adopts its order waits for the adoption', async () => {
    sim().setOrderMode('hold');
    // Start-up is held between the connector's start and the reconciliation.
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let held = false;
    t = await t.restart({
      beforeReconcile: () => {
        held = true;
        return gate;
      },
    });
    sim().setRate(0);
    await until(() => held, 'start-up held before the reconciliation');
    expect(t.server.orders?.isReady).toBe(false);
    // What a process killed between the DLL call and storing the DLL's id leaves, the DLL's
    // acknowledgement still to come.
    const request = limitBuy(38.33, 'early');
    const row = (await writeAhead(request)).order;
    const accepted = 'kind="order",outcome="accepted"';
    const announced = await metric(t.url, 'tape_market_events_total', accepted);
    const adopted = sendBehindTape(request);
    // And one another terminal of the account sent: Tape never wrote it.
    const foreign = sendBehindTape(limitBuy(38.34, 'foreign', 200));
    // Both acknowledgements reach the manager while the reconciliation has not run.
    await until(
      async () => (await metric(t.url, 'tape_market_events_total', accepted)) >= announced + 2,
      'the acknowledgements handed to the order manager',
    );
    release();
    await until(() => t.server.orders?.isReady, 'orders reconciled');
    await t.server.orders?.settled();
    await t.server.deadLetters.flush();
    const unknown = (await t.server.deadLetters.store.list({ source: 'profitdll.order', limit: 500 }))
      .filter((l) => l.reason === 'unknown_order')
      .map((l) => (l.payload as { localOrderId: string }).localOrderId);
    expect(unknown).not.toContain(adopted.toString());
    // Read after the reconciliation, not dropped: the other terminal's order is kept as an
    // order made outside Tape (issue 19), working, on the blotter of the account.
    expect(unknown).not.toContain(foreign.toString());
    const listed = (await api('trader1', 'GET', '/api/v1/orders')).body.orders as OrderJson[];
    expect(listed.find((o) => o.localOrderId === foreign.toString())).toMatchObject({
      external: true,
      clientOrderId: `ext-${foreign}`,
      state: 'new',
      qty: 200,
    });
    expect(await untilState(row.id, 'new')).toMatchObject({ localOrderId: adopted.toString() });
    sim().setOrderMode('match');
  });
});
