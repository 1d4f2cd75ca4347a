import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Instrument, instrumentFor } from '../shared/instruments.ts';
import type { Database } from '../store/db.ts';
import { OrderStore } from '../store/orders.ts';
import { createTestUser, testBackends } from '../store/testing.ts';
import { flatten } from './flatten.ts';
import { OrderError } from './model.ts';
import type { VenueAccount } from './ports.ts';
import type { OrderReport } from './report.ts';
import { OPEN_RISK, ScriptedBroker, scriptedManager } from './scriptedBroker.ts';

// Flatten and reverse against the real order store and a scripted broker: whatever the working
// orders fill before their cancel, and between the cancel and its answer, the market order is
// for the position once they have closed, sent once, and leaves the position flat (reversed).
// orders.test.ts drives the route through the simulator library.

const instruments = new Map<string, Instrument>(
  ['PETR4', 'VALE3'].map((t) => [t, instrumentFor(t, 'B') as Instrument]),
);

/**
 * A broker that fills what the script says: market orders at once; a working order's cancel is
 * answered after `lateFill` more lots (the fills that were on their way when it was asked).
 */
class FillingBroker extends ScriptedBroker {
  lateFill = new Map<bigint, number>();
  markets: bigint[] = [];
  announce: (id: bigint) => void = () => {};
  override send(o: {
    account: VenueAccount;
    ticker: string;
    side: 'buy' | 'sell';
    qty: number;
    type?: string;
  }) {
    const id = super.send(o);
    if (o.type === 'market') {
      this.markets.push(id);
      setImmediate(() => {
        this.move(id, { fill: { qty: o.qty, price: 38.5 } });
        this.announce(id);
      });
    } else
      setImmediate(() => {
        this.move(id, {});
        this.announce(id);
      });
    return id;
  }
  override cancel(account: VenueAccount, id: bigint) {
    super.cancel(account, id);
    setImmediate(() => {
      const o = this.orders.get(id) as OrderReport;
      const late = Math.min(this.lateFill.get(id) ?? 0, o.qty - o.filledQty);
      if (late > 0) this.move(id, { fill: { qty: late, price: 38.4 } });
      this.announce(id);
      setImmediate(() => {
        const now = this.orders.get(id) as OrderReport;
        if (now.status !== 'filled') this.cancelNow(id);
        this.announce(id);
      });
    });
  }
}

describe.each(testBackends())('flatten and reverse on $name', (backend) => {
  let db: Database;
  let store: OrderStore;
  let userId: number;
  let n = 0;

  beforeAll(async () => {
    db = await backend.open();
    store = new OrderStore(db.sql);
    userId = await createTestUser(db, 'flat');
  }, 60_000);
  afterAll(() => db?.close());

  const setUp = async () => {
    const accountId = `FLAT-${++n}`;
    await store.createAccount(accountId, 1, accountId, null);
    const broker = new FillingBroker();
    const m = await scriptedManager(store, broker, instruments);
    broker.announce = (id) => m.onOrderUpdate(id);
    const submit = (side: 'buy' | 'sell', qty: number, type: 'market' | 'limit', ticker = 'PETR4') =>
      m.submit(
        accountId,
        userId,
        { clientOrderId: `f${n}-${Math.random().toString(36).slice(2)}`, ticker, side, type, qty, price: 38 },
        OPEN_RISK,
      );
    const filledTo = async (ticker: string, qty: number) => {
      const deadline = Date.now() + 5_000;
      while (m.position(accountId, ticker).qty !== qty) {
        if (Date.now() > deadline)
          throw new Error(`position ${m.position(accountId, ticker).qty}, not ${qty}`);
        await new Promise((r) => setTimeout(r, 2));
      }
    };
    return { accountId, broker, m, submit, filledTo };
  };

  it('property: whatever the working orders fill before and during their cancel, flatten leaves 0 and reverse the opposite', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: -5, max: 5 }),
        fc.array(
          fc.record({
            side: fc.constantFrom<'buy' | 'sell'>('buy', 'sell'),
            lots: fc.integer({ min: 1, max: 4 }),
            before: fc.nat({ max: 4 }),
            late: fc.nat({ max: 4 }),
          }),
          { maxLength: 4 },
        ),
        fc.boolean(),
        async (startLots, working, reverse) => {
          const { accountId, broker, m, submit, filledTo } = await setUp();
          if (startLots !== 0) {
            await submit(startLots > 0 ? 'buy' : 'sell', Math.abs(startLots) * 100, 'market');
            await filledTo('PETR4', startLots * 100);
          }
          let expected = startLots * 100;
          for (const w of working) {
            const r = await submit(w.side, w.lots * 100, 'limit');
            const id = r.order.localOrderId as bigint;
            const before = Math.min(w.before, w.lots) * 100;
            if (before > 0) {
              broker.move(id, { fill: { qty: before, price: 38 } });
              m.onOrderUpdate(id);
              expected += w.side === 'buy' ? before : -before;
            }
            const late = Math.min(w.late * 100, w.lots * 100 - before);
            broker.lateFill.set(id, late);
            expected += w.side === 'buy' ? late : -late;
          }
          const marketsBefore = broker.markets.length;
          const results = await flatten(
            m,
            store,
            { accountId, userId, risk: OPEN_RISK },
            {
              clientOrderId: `flat-${n}`,
              ticker: 'PETR4',
              reverse,
            },
          );
          // The market order is for the position the closed orders left, sent once.
          expect(results.map((r) => r.positionQty)).toEqual([expected]);
          expect(broker.markets.length - marketsBefore).toBe(expected === 0 ? 0 : 1);
          await filledTo('PETR4', reverse ? -expected : 0);
          expect((await store.list(accountId, { working: true, limit: 100 })).length).toBe(0);
          // The same request again sends nothing more.
          const again = await flatten(
            m,
            store,
            { accountId, userId, risk: OPEN_RISK },
            {
              clientOrderId: `flat-${n}`,
              ticker: 'PETR4',
              reverse,
            },
          );
          expect(again[0]?.order?.created ?? false).toBe(false);
          expect(broker.markets.length - marketsBefore).toBe(expected === 0 ? 0 : 1);
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);

  it('the whole account: every ticker with a position or a working order, one market order each', async () => {
    const { accountId, broker, m, submit, filledTo } = await setUp();
    await submit('buy', 300, 'market', 'PETR4');
    await submit('sell', 200, 'market', 'VALE3');
    await filledTo('PETR4', 300);
    await filledTo('VALE3', -200);
    const working = await submit('buy', 100, 'limit', 'VALE3');
    broker.lateFill.set(working.order.localOrderId as bigint, 100);
    const results = await flatten(
      m,
      store,
      { accountId, userId, risk: OPEN_RISK },
      {
        clientOrderId: 'all-1',
        reverse: false,
      },
    );
    expect(results.map((r) => [r.ticker, r.positionQty, r.order?.order.clientOrderId])).toEqual([
      ['PETR4', 300, 'all-1.PETR4'],
      ['VALE3', -100, 'all-1.VALE3'],
    ]);
    await filledTo('PETR4', 0);
    await filledTo('VALE3', 0);
  });

  it('sends nothing while a working order does not close in time', async () => {
    const { accountId, broker, m, submit } = await setUp();
    await submit('buy', 100, 'market');
    await new Promise((r) => setTimeout(r, 50));
    const stuck = await submit('buy', 100, 'limit');
    await new Promise((r) => setTimeout(r, 20));
    // The DLL takes the cancel and never answers it.
    broker.cancel = () => {};
    const marketsBefore = broker.markets.length;
    const err = await flatten(
      m,
      store,
      { accountId, userId, risk: OPEN_RISK },
      {
        clientOrderId: 'stuck-1',
        ticker: 'PETR4',
        reverse: false,
      },
      300,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OrderError);
    expect((err as OrderError).code).toBe('cancel_pending');
    expect(broker.markets.length).toBe(marketsBefore);
    expect((await store.byId(stuck.order.id))?.state).toBe('new');
  });
});
