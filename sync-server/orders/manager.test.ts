import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewDeadLetter } from '../deadLetters/queue.ts';
import { createLogger } from '../log.ts';
import { instrumentFor } from '../shared/instruments.ts';
import type { RiskConfig } from '../shared/orders.ts';
import type { Database } from '../store/db.ts';
import { OrderStore } from '../store/orders.ts';
import { createTestUser, testBackends } from '../store/testing.ts';
import { MAX_HELD_UPDATES } from './lanes.ts';
import { MAX_SUBMITS_IN_FLIGHT, MAX_UPDATE_BACKLOG, OrderManager } from './manager.ts';
import { OrderError } from './model.ts';
import { parseDllOrder } from './profitDllAdapter.ts';
import type { OrderReport } from './report.ts';
import { DEFAULT_RISK } from './risk.ts';
import { ScriptedBroker } from './scriptedBroker.ts';

// The manager's update lanes and load limits, against the real order store, with a scripted
// broker behind the manager's own OrderVenue port: the test decides when the DLL moves
// an order on and how many times it announces each move. orders.test.ts drives the same code
// end to end through the simulator library.

const log = createLogger('silent');
const instruments = new Map(
  ['PETR4', 'VALE3'].map((t) => [t, instrumentFor(t, 'B') as NonNullable<ReturnType<typeof instrumentFor>>]),
);
const RISK: RiskConfig = {
  ...DEFAULT_RISK,
  maxOrderQty: 100_000,
  maxOrderNotionalCents: 1_000_000_000,
  maxPositionQty: 1_000_000,
  maxOpenOrders: 10_000,
  dailyLossLimitCents: 1_000_000_000,
  ordersPerSecond: 100_000,
  orderBurst: 100_000,
};

describe.each(testBackends())('OrderManager update lanes on $name', (backend) => {
  let db: Database;
  let store: OrderStore;
  let userId: number;
  let n = 0;
  const accounts = ['LANE-A', 'LANE-B'];
  /** The kill switch's account. */
  const HALTED = 'LANE-K';

  beforeAll(async () => {
    db = await backend.open();
    store = new OrderStore(db.sql);
    userId = await createTestUser(db, 'lane');
    for (const a of [...accounts, HALTED]) await store.createAccount(a, 1, a, null);
  }, 60_000);
  afterAll(() => db?.close());

  /** A manager over the broker, not reconciled yet (as between the DLL's start and reconcile()). */
  const starting = (broker: ScriptedBroker, s: OrderStore = store) => {
    const deadLetters: NewDeadLetter[] = [];
    const m = new OrderManager(
      s,
      broker,
      { lastPrice: () => 38.5, priceLimits: () => undefined, tradable: () => true },
      { order: () => {}, position: () => {} },
      (l) => deadLetters.push(l),
      log,
      instruments,
    );
    return { m, deadLetters };
  };
  const managerOn = async (broker: ScriptedBroker, s: OrderStore = store) => {
    const started = starting(broker, s);
    await started.m.reconcile();
    return started;
  };
  const market = (account: string, side: 'buy' | 'sell', qty: number, ticker = 'PETR4') => ({
    account,
    req: { clientOrderId: `lane-${++n}`, ticker, side, type: 'market' as const, qty },
  });

  it('property: however often and in whatever order the DLL announces, each order ends as the DLL has it, every fill once', async () => {
    await fc.assert(
      fc.asyncProperty(
        // Per order: account, side, and the lots of each fill (the DLL's steps).
        fc.array(
          fc.record({
            account: fc.constantFrom(...accounts),
            side: fc.constantFrom<'buy' | 'sell'>('buy', 'sell'),
            fills: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        // The schedule: which order moves next, how many announcements follow, and whether the
        // test lets the manager run before the next move.
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 3 }), fc.boolean()), { maxLength: 40 }),
        async (specs, schedule) => {
          const broker = new ScriptedBroker();
          const { m, deadLetters } = await managerOn(broker);
          broker.onSend = (id) => m.onOrderUpdate(id);
          const placed = await Promise.all(
            specs.map(async (spec) => {
              const qty = spec.fills.reduce((a, b) => a + b, 0) * 100;
              const { account, req } = market(spec.account, spec.side, qty);
              const r = await m.submit(account, userId, { ...req }, RISK);
              return {
                spec,
                id: r.order.localOrderId as bigint,
                steps: [
                  {},
                  ...spec.fills.map((lots, i) => ({ fill: { qty: lots * 100, price: 38 + i / 100 } })),
                ],
              };
            }),
          );
          const announce = (id: bigint, times: number) => {
            for (let i = 0; i < times; i++) m.onOrderUpdate(id);
          };
          for (const [pick, times, yieldNow] of schedule) {
            const p = placed[pick % placed.length];
            const step = p?.steps.shift();
            if (!p || !step) continue;
            broker.move(p.id, step);
            announce(p.id, times);
            if (yieldNow) await new Promise((r) => setImmediate(r));
          }
          // The rest of every order's moves; the DLL announces at least its last move.
          for (const p of placed) {
            for (const step of p.steps.splice(0)) broker.move(p.id, step);
            announce(p.id, 1);
          }
          await m.settled();
          expect(m.updateBacklog).toBe(0);
          expect(deadLetters).toEqual([]);
          for (const p of placed) {
            const row = await store.byLocalId(p.id);
            const dll = broker.orders.get(p.id) as OrderReport;
            expect(row?.state).toBe('filled');
            expect(row?.filledQty).toBe(dll.filledQty);
            const fills = (await store.fills(p.spec.account)).filter((f) => f.orderId === row?.id);
            expect(fills.reduce((q, f) => q + f.qty, 0)).toBe(dll.filledQty);
          }
          await m.stop();
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);

  it('property: wherever the kill switch lands among concurrent submissions, nothing of the account reaches the DLL after it, its cancel finds every order that did, and what ends after it was refused', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 3 }),
        async (s, early, late) => {
          const broker = new ScriptedBroker();
          // The store's answers come back in an order the scheduler picks (once reconciled).
          let gated = false;
          const gate =
            <A extends unknown[], T>(f: (...a: A) => Promise<T>) =>
            (...a: A) =>
              gated ? s.schedule(f(...a)) : f(...a);
          const slow = Object.assign(Object.create(store) as OrderStore, {
            insertPending: gate(store.insertPending.bind(store)),
            setLocalId: gate(store.setLocalId.bind(store)),
            transition: gate(store.transition.bind(store)),
            list: gate(store.list.bind(store)),
          });
          const { m } = await managerOn(broker, slow);
          gated = true;
          let halted = false;
          let sentWhenHalted = -1;
          let switchAnswered = false;
          const ended: { afterTheSwitch: boolean; rejectReason: string | null }[] = [];
          // As the route does: the config is read when the request comes, before the switch or after.
          const submit = () =>
            m
              .submit(
                HALTED,
                userId,
                market(HALTED, 'buy', 100).req,
                halted ? { ...RISK, killSwitch: true } : RISK,
              )
              .then((r) =>
                ended.push({ afterTheSwitch: switchAnswered, rejectReason: r.order.rejectReason }),
              );
          const at = (label: string) => s.schedule(Promise.resolve(), label);
          const submits = Array.from({ length: early + late }, (_, i) =>
            at(i < early ? 'submit' : 'late submit').then(submit),
          );
          const kill = at('kill switch').then(async () => {
            const underWay = m.setKillSwitch(HALTED, true);
            halted = true;
            sentWhenHalted = broker.orders.size;
            await underWay;
            await m.cancelAll(HALTED);
            switchAnswered = true;
          });
          await s.waitFor(Promise.all([...submits, kill]));
          expect(broker.orders.size, 'sent after the switch').toBe(sentWhenHalted);
          expect([...broker.orders.keys()].filter((id) => !broker.canceled.includes(id))).toEqual([]);
          expect(ended.filter((e) => e.afterTheSwitch && e.rejectReason !== 'kill_switch')).toEqual([]);
          await m.stop();
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);

  it('reads an order announced many times before the read once, not once per announcement', async () => {
    const broker = new ScriptedBroker();
    const { m } = await managerOn(broker);
    const { account, req } = market('LANE-A', 'buy', 500);
    const id = (await m.submit(account, userId, req, RISK)).order.localOrderId as bigint;
    await m.settled();
    const before = broker.reads.get(id) ?? 0;
    broker.move(id, {});
    for (const lots of [1, 1, 1, 1, 1]) {
      broker.move(id, { fill: { qty: lots * 100, price: 38.5 } });
      for (let i = 0; i < 20; i++) m.onOrderUpdate(id);
    }
    await m.settled();
    // 100 announcements: the first starts a read, the other 99 wait as one.
    expect((broker.reads.get(id) ?? 0) - before).toBeLessThanOrEqual(2);
    expect((await store.byLocalId(id))?.state).toBe('filled');
    await m.stop();
  });

  it('counts a waiting stop as triggered once the venue reports it so, or once it has fills, and records the trigger before any fill', async () => {
    const broker = new ScriptedBroker();
    const { m, deadLetters } = await managerOn(broker);
    const stop = (side: 'buy' | 'sell') => ({
      clientOrderId: `lane-${++n}`,
      ticker: 'PETR4',
      side,
      type: 'stop_limit' as const,
      qty: 200,
      price: side === 'buy' ? 38.7 : 38.3,
      stopPrice: side === 'buy' ? 38.6 : 38.4,
    });
    const events = async (orderId: number) => (await store.events(orderId)).map((e) => e.event);
    // One the venue reports triggered (ProfitDLL's simulator: a limit keeping its stop price).
    const a = (await m.submit('LANE-A', userId, stop('buy'), RISK)).order;
    const aId = a.localOrderId as bigint;
    broker.move(aId, {});
    m.onOrderUpdate(aId);
    await m.settled();
    expect(await store.byId(a.id)).toMatchObject({ state: 'new', triggeredAt: null, stopPrice: 38.6 });
    broker.orders.set(aId, { ...(broker.orders.get(aId) as OrderReport), stopTriggered: true });
    m.onOrderUpdate(aId);
    await m.settled();
    expect((await store.byId(a.id))?.triggeredAt).not.toBeNull();
    broker.move(aId, { fill: { qty: 200, price: 38.65 } });
    m.onOrderUpdate(aId);
    await m.settled();
    expect(await events(a.id)).toEqual(['submitted', 'accepted', 'triggered', 'fill']);
    // One the venue never says triggered: its first fill proves it; acknowledged, triggered and
    // partly filled all in one read.
    const b = (await m.submit('LANE-A', userId, stop('sell'), RISK)).order;
    const bId = b.localOrderId as bigint;
    broker.move(bId, {});
    broker.move(bId, { fill: { qty: 100, price: 38.35 } });
    m.onOrderUpdate(bId);
    await m.settled();
    expect(await store.byId(b.id)).toMatchObject({ state: 'partially_filled', filledQty: 100 });
    expect((await store.byId(b.id))?.triggeredAt).not.toBeNull();
    expect(await events(b.id)).toEqual(['submitted', 'triggered', 'partial_fill']);
    expect(deadLetters).toEqual([]);
    await m.stop();
  });

  it('does not dead-letter its own order when the DLL announces it before its id is stored', async () => {
    const broker = new ScriptedBroker();
    // The id takes 50 ms to store: the announcement is read meanwhile, while the database has
    // no order of that id yet.
    const slow = Object.assign(Object.create(store) as OrderStore, {
      setLocalId: async (orderId: number, id: bigint) => {
        await new Promise((r) => setTimeout(r, 50));
        return store.setLocalId(orderId, id);
      },
    });
    const { m, deadLetters } = await managerOn(broker, slow);
    broker.onSend = (id) => {
      broker.move(id, {});
      m.onOrderUpdate(id);
    };
    const { account, req } = market('LANE-B', 'sell', 100);
    const r = await m.submit(account, userId, req, RISK);
    await m.settled();
    expect(deadLetters).toEqual([]);
    expect((await store.byId(r.order.id))?.state).toBe('new');
    await m.stop();
  });

  it('holds what the DLL announces before the reconciliation, bounded, and reads it after, in order', async () => {
    const broker = new ScriptedBroker();
    const { m, deadLetters } = starting(broker);
    // Orders the DLL has and this server never wrote (another terminal's), as at a busy start.
    const ids = Array.from({ length: MAX_HELD_UPDATES + 1 }, () =>
      broker.send({ account: { brokerId: 1, accountId: 'LANE-A' }, ticker: 'PETR4', side: 'buy', qty: 100 }),
    );
    for (const id of ids) m.onOrderUpdate(id);
    m.onOrderUpdate(ids[0] as bigint); // again: still one read
    await m.settled();
    expect(broker.reads.size).toBe(0);
    expect(m.updateBacklog).toBe(MAX_HELD_UPDATES);
    const past = ids.at(-1)?.toString();
    expect(deadLetters).toEqual([
      expect.objectContaining({ reason: 'held_overflow', payload: { localOrderId: past } }),
    ]);
    await m.reconcile();
    await m.settled();
    // Each is on one of Tape's accounts: kept as an order made outside Tape (the one past the
    // bound too, found in the DLL's list), none lettered unknown, each held one read once.
    expect(deadLetters.filter((l) => l.reason === 'unknown_order')).toEqual([]);
    const kept = await Promise.all(ids.map((id) => store.byLocalId(id)));
    expect(kept.every((o) => o?.origin === 'external' && o.state === 'pending_new')).toBe(true);
    expect(broker.reads.size).toBe(MAX_HELD_UPDATES);
    expect([...broker.reads.values()].every((n) => n === 1)).toBe(true);
    await m.stop();
  }, 60_000);

  it('applies nothing from a row that moved on under it, and reads the order again', async () => {
    const broker = new ScriptedBroker();
    const { m, deadLetters } = await managerOn(broker);
    const { account, req } = market('LANE-A', 'buy', 300);
    const r = await m.submit(account, userId, req, RISK);
    const id = r.order.localOrderId as bigint;
    broker.move(id, {});
    m.onOrderUpdate(id);
    await m.settled();
    // Someone else recorded the first 100 behind the manager's back: its row is now stale.
    await db.sql`update orders set state = 'partially_filled', filled_qty = 100, avg_fill_price = 38.5 where id = ${r.order.id}`;
    broker.move(id, { fill: { qty: 100, price: 38.5 } });
    broker.move(id, { fill: { qty: 100, price: 38.5 } });
    m.onOrderUpdate(id);
    await m.settled();
    const row = await store.byId(r.order.id);
    expect(row).toMatchObject({ state: 'partially_filled', filledQty: 200 });
    // Only the second 100 is this manager's to record, once.
    const fills = (await store.fills('LANE-A')).filter((f) => f.orderId === r.order.id);
    expect(fills.map((f) => f.qty)).toEqual([100]);
    expect(deadLetters).toEqual([]);
    broker.move(id, { fill: { qty: 100, price: 38.5 } });
    m.onOrderUpdate(id);
    await m.settled();
    expect((await store.byId(r.order.id))?.state).toBe('filled');
    await m.stop();
  });

  it('dead-letters a status it does not know and a move the lifecycle does not allow, and applies neither', async () => {
    const broker = new ScriptedBroker();
    const { m, deadLetters } = await managerOn(broker);
    const { account, req } = market('LANE-A', 'buy', 100);
    const r = await m.submit(account, userId, req, RISK);
    const id = r.order.localOrderId as bigint;
    broker.move(id, {});
    m.onOrderUpdate(id);
    await m.settled();
    const status = (status: OrderReport['status'], venueStatus: number) =>
      broker.orders.set(id, { ...(broker.orders.get(id) as OrderReport), status, venueStatus });
    status('unknown', 200);
    m.onOrderUpdate(id);
    await m.settled();
    expect(deadLetters).toEqual([
      {
        source: 'profitdll.order',
        reason: 'unknown_status',
        detail: 'status 200',
        payload: expect.anything(),
      },
    ]);
    expect((await store.byId(r.order.id))?.state).toBe('new');
    broker.move(id, { fill: { qty: 100, price: 38.5 } });
    m.onOrderUpdate(id);
    await m.settled();
    // Filled is final: the DLL then reporting it canceled is a move the table refuses.
    status('canceled', 4);
    m.onOrderUpdate(id);
    await m.settled();
    expect(deadLetters.slice(1)).toEqual([
      {
        source: 'orders.transition',
        reason: 'invalid_transition',
        detail: expect.stringContaining('canceled'),
        payload: { orderId: r.order.id, from: 'filled', event: 'canceled', patch: {} },
      },
    ]);
    expect(await store.byId(r.order.id)).toMatchObject({ state: 'filled', filledQty: 100 });
    await m.stop();
  });

  it('dead-letters an update it cannot read: invalid_order for a malformed report, update_failed for any other error', async () => {
    const malformed = 77_777n;
    class Broker extends ScriptedBroker {
      override details(id: bigint): OrderReport {
        if (id !== malformed) return super.details(id);
        return parseDllOrder({
          localOrderId: id,
          clOrderId: '',
          brokerId: 1,
          accountId: 'LANE-A',
          subAccountId: '',
          ticker: 'PETR4',
          exchange: 'B',
          qty: 100,
          tradedQty: 0,
          leavesQty: 100,
          price: 0,
          stopPrice: 0,
          averagePrice: 0,
          side: 9,
          type: 1,
          status: 0,
          date: null,
          lastUpdate: null,
          closeDate: null,
          text: '',
        });
      }
    }
    const { m, deadLetters } = await managerOn(new Broker());
    m.onOrderUpdate(malformed);
    m.onOrderUpdate(88_888n); // the scripted broker has no such order: details() throws
    await m.settled();
    expect(deadLetters).toEqual([
      {
        source: 'profitdll.order',
        reason: 'invalid_order',
        detail: 'ProfitDLL reported an invalid order 77777: side 9 is neither buy (1) nor sell (2)',
        payload: expect.objectContaining({ localOrderId: '77777', side: 9 }),
      },
      {
        source: 'profitdll.order',
        reason: 'update_failed',
        detail: 'no order 88888',
        payload: { localOrderId: '88888' },
      },
    ]);
    await m.stop();
  });

  it('enforces the open-order limit over concurrent submissions, and frees a slot when an order fills', async () => {
    const broker = new ScriptedBroker();
    const { m } = await managerOn(broker);
    const limit = { ...RISK, maxOpenOrders: 5 };
    const limitOrder = () => ({ ...market('LANE-B', 'buy', 100).req, type: 'limit' as const, price: 38.5 });
    const results = await Promise.all(
      Array.from({ length: 12 }, () => m.submit('LANE-B', userId, limitOrder(), limit)),
    );
    const sent = results.filter((r) => r.order.state !== 'rejected');
    expect(sent).toHaveLength(5);
    expect(results.filter((r) => r.risk?.ok === false).map((r) => r.order.rejectReason)).toEqual(
      Array(7).fill('max_open_orders'),
    );
    const first = sent[0]?.order.localOrderId as bigint;
    broker.move(first, {});
    broker.move(first, { fill: { qty: 100, price: 38.5 } });
    m.onOrderUpdate(first);
    await m.settled();
    expect((await m.submit('LANE-B', userId, limitOrder(), limit)).order.state).not.toBe('rejected');
    expect((await m.submit('LANE-B', userId, limitOrder(), limit)).risk).toMatchObject({
      ok: false,
      reason: 'max_open_orders',
    });
    // Leave the lane's orders closed for the next test.
    for (const [id, o] of broker.orders) {
      if (o.status === 'filled') continue;
      broker.move(id, {});
      broker.move(id, { fill: { qty: o.qty - o.filledQty, price: 38.5 } });
      m.onOrderUpdate(id);
    }
    await m.settled();
    await m.stop();
  });

  it('answers 429 past the submissions in flight per account and 503 while far behind the DLL', async () => {
    const broker = new ScriptedBroker();
    const { m } = await managerOn(broker);
    const burst = Array.from({ length: MAX_SUBMITS_IN_FLIGHT + 5 }, () => {
      const { account, req } = market('LANE-A', 'buy', 100);
      try {
        return m.submit(account, userId, req, RISK).then(
          () => 'sent',
          (err: Error) => err.message,
        );
      } catch (err) {
        expect(err).toBeInstanceOf(OrderError);
        expect(err).toMatchObject({ status: 429, code: 'too_many_pending', retryAfterS: 1 });
        return Promise.resolve('busy');
      }
    });
    const outcomes = await Promise.all(burst);
    expect(
      outcomes.filter((o) => o === 'sent'),
      outcomes.join(),
    ).toHaveLength(MAX_SUBMITS_IN_FLIGHT);
    expect(outcomes.filter((o) => o === 'busy')).toHaveLength(5);
    // The other account has its own queue.
    const other = market('LANE-B', 'buy', 100);
    await expect(m.submit(other.account, userId, other.req, RISK)).resolves.toMatchObject({ created: true });

    // Announcements of orders the DLL has but nobody reads yet (another client's, say).
    for (let i = 0; i <= MAX_UPDATE_BACKLOG + 1; i++) {
      const { account, req } = market('LANE-B', 'buy', 100);
      broker.send({
        account: { brokerId: 1, accountId: account },
        ticker: req.ticker,
        side: 'buy',
        qty: 100,
      });
    }
    for (const id of broker.orders.keys()) m.onOrderUpdate(id);
    expect(m.updateBacklog).toBeGreaterThan(MAX_UPDATE_BACKLOG);
    const late = market('LANE-A', 'buy', 100);
    expect(() => m.submit(late.account, userId, late.req, RISK)).toThrow(
      expect.objectContaining({ status: 503, code: 'behind_broker' }),
    );
    await m.settled();
    expect(m.updateBacklog).toBe(0);
    await expect(m.submit(late.account, userId, late.req, RISK)).resolves.toMatchObject({ created: true });
    await m.stop();
  }, 60_000);

  it('the daily loss limit counts today’s costs: flat P&L but R$ 200 of brokerage stops new risk', async () => {
    const broker = new ScriptedBroker();
    // An account of its own: the other tests' fills on theirs count in their days.
    const account = 'LANE-L';
    await store.createAccount(account, 1, account, null);
    const { m } = await managerOn(broker);
    m.setCostSchedule(account, Date.now() - 1_000, {
      brokerage: 'per_order',
      brokerageCents: 10_000, // R$ 100 an order
      equitiesFeePpm: 0,
      futuresFeeCents: 0,
    });
    const limits = { ...RISK, dailyLossLimitCents: 15_000 }; // R$ 150
    const day = () => m.day(account);
    const before = day();
    // A round trip at one price: nothing realized, R$ 200 charged.
    for (const side of ['buy', 'sell'] as const) {
      const { req } = market(account, side, 100);
      const r = await m.submit(account, userId, req, limits);
      expect(r.risk?.ok).toBe(true);
      const id = r.order.localOrderId as bigint;
      broker.move(id, { fill: { qty: 100, price: 38.5 } });
      m.onOrderUpdate(id);
      await m.settled();
    }
    expect(day().realizedCents - before.realizedCents).toBe(0);
    expect(day().costsCents - before.costsCents).toBe(20_000);
    // Realized alone (0) is inside the limit; net of costs (−R$ 200) is past it.
    expect(day().realizedCents - day().costsCents).toBeLessThanOrEqual(-15_000);
    const opening = await m.submit(account, userId, market(account, 'buy', 100).req, limits);
    expect(opening.order).toMatchObject({ state: 'rejected', rejectReason: 'daily_loss_limit' });
    await m.stop();
  });
});
