import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import { type Instrument, instrumentFor } from '../shared/instruments.ts';
import { BracketStore } from '../store/brackets.ts';
import type { Database } from '../store/db.ts';
import { OrderStore } from '../store/orders.ts';
import { createTestUser, testBackends } from '../store/testing.ts';
import { type Bracket, Brackets, bracketProblem } from './brackets.ts';
import type { OrderRow } from './model.ts';
import type { VenueAccount } from './ports.ts';
import type { OrderReport } from './report.ts';
import { OPEN_RISK, ScriptedBroker, scriptedManager } from './scriptedBroker.ts';

// OCO brackets against the real order and bracket stores and a scripted broker that takes each
// change and cancel when sent and answers it later, while fills land on either leg in any order.
// brackets.sim.test.ts drives the same through the simulator library.

const log = createLogger('silent');
const instruments = new Map<string, Instrument>([['PETR4', instrumentFor('PETR4', 'B') as Instrument]]);
const LOT = 100;

/**
 * The exchange as the test scripts it: an order's change or cancel reaches it when sent (the
 * `intended` total it leaves) and is answered (reported) at a later step; fills are the script's.
 */
class OcoBroker extends ScriptedBroker {
  readonly intended = new Map<bigint, number>();
  readonly requests: { id: bigint; qty: number | 'cancel' }[] = [];
  readonly types = new Map<bigint, string>();
  readonly unannounced = new Set<bigint>();
  /** Orders the manager sent, in order. */
  readonly sent: bigint[] = [];
  override send(o: {
    account: VenueAccount;
    ticker: string;
    side: 'buy' | 'sell';
    qty: number;
    type?: string;
  }) {
    const id = super.send(o);
    this.sent.push(id);
    this.types.set(id, o.type ?? 'limit');
    this.intended.set(id, o.qty);
    this.move(id, {});
    this.unannounced.add(id);
    return id;
  }
  override cancel(account: VenueAccount, id: bigint) {
    super.cancel(account, id);
    this.intended.set(id, 0);
    this.requests.push({ id, qty: 'cancel' });
  }
  override change(_a: VenueAccount, id: bigint, _price: number, qty: number) {
    this.intended.set(id, Math.min(this.intended.get(id) ?? qty, qty));
    this.requests.push({ id, qty });
  }
  /** What the exchange would still trade of the order. */
  open(id: bigint, respectRequests: boolean): number {
    const o = this.orders.get(id) as OrderReport;
    if (o.status === 'filled' || o.status === 'canceled' || o.status === 'rejected') return 0;
    const cap = respectRequests ? Math.min(o.qty, this.intended.get(id) ?? o.qty) : o.qty;
    return Math.max(0, cap - o.filledQty);
  }
  fill(id: bigint, qty: number) {
    this.move(id, { fill: { qty, price: 38.5 } });
    this.unannounced.add(id);
  }
  /** The oldest change or cancel is done (or refused, when the order filled past it) and reported. */
  answer(): boolean {
    const r = this.requests.shift();
    if (!r) return false;
    const o = this.orders.get(r.id) as OrderReport;
    if (o.status !== 'filled' && o.status !== 'canceled') {
      if (r.qty === 'cancel') this.cancelNow(r.id);
      else if (r.qty > o.filledQty)
        this.orders.set(r.id, { ...o, status: 'replaced', venueStatus: 5, qty: r.qty });
      else this.cancelNow(r.id); // cut to what it had traded: done
    }
    this.unannounced.add(r.id);
    return true;
  }
}

describe.each(testBackends())('OCO brackets on $name', (backend) => {
  let db: Database;
  let store: OrderStore;
  let bracketStore: BracketStore;
  let userId: number;
  let n = 0;

  beforeAll(async () => {
    db = await backend.open();
    store = new OrderStore(db.sql);
    bracketStore = new BracketStore(db.sql);
    userId = await createTestUser(db, 'oco');
  }, 60_000);
  afterAll(() => db?.close());

  const setUp = async () => {
    const accountId = `OCO-${++n}`;
    await store.createAccount(accountId, 1, accountId, null);
    const broker = new OcoBroker();
    const rows = new Map<number, OrderRow>();
    let brackets: Brackets | undefined;
    const m = await scriptedManager(store, broker, instruments, {
      order: (o) => {
        rows.set(o.id, o);
        brackets?.onOrder(o);
      },
      position: (a, t) => brackets?.onPosition(a, t),
    });
    const pushed: Bracket[] = [];
    brackets = new Brackets(
      m,
      store,
      bracketStore,
      { bracket: (b) => pushed.push(b) },
      async () => OPEN_RISK,
      log,
    );
    const b = brackets;
    /** Every report the broker holds read, and every bracket step it caused done. */
    const deliver = async (only?: (id: bigint) => boolean) => {
      for (let round = 0; round < 50; round++) {
        const ids = [...broker.unannounced].filter((id) => !only || only(id));
        if (ids.length === 0) {
          await m.settled();
          await b.settled();
          if ([...broker.unannounced].filter((id) => !only || only(id)).length === 0) return;
          continue;
        }
        for (const id of ids) {
          broker.unannounced.delete(id);
          m.onOrderUpdate(id);
        }
        await m.settled();
        await b.settled();
      }
      throw new Error('the broker and the brackets did not settle');
    };
    const buy = async (lots: number) => {
      const r = await m.submit(
        accountId,
        userId,
        {
          clientOrderId: `p${n}-${Math.random().toString(36).slice(2)}`,
          ticker: 'PETR4',
          side: 'buy',
          type: 'market',
          qty: lots * LOT,
        },
        OPEN_RISK,
      );
      broker.fill(r.order.localOrderId as bigint, lots * LOT);
      await deliver();
    };
    /** Every report read and every change and cancel answered, until nothing more is asked. */
    const drain = async () => {
      do await deliver();
      while (broker.answer());
    };
    return { accountId, broker, m, brackets: b, rows, deliver, drain, buy, pushed };
  };

  const legsOf = async (id: number) => {
    const b = (await bracketStore.byId(id)) as Bracket;
    const get = async (o: number | null) => (o === null ? undefined : await store.byId(o));
    return {
      b,
      entry: await get(b.entryOrderId),
      tp: await get(b.takeProfitOrderId),
      sl: await get(b.stopLossOrderId),
    };
  };

  const request = (clientId: string, extra: { qty?: number; entryLots?: number }) => ({
    clientId,
    ticker: 'PETR4',
    qty: extra.qty,
    entry:
      extra.entryLots === undefined
        ? undefined
        : { side: 'buy' as const, type: 'limit' as const, qty: extra.entryLots * LOT, price: 38.5 },
    takeProfit: 39,
    stopPrice: 38,
    stopLimit: 37.9,
  });

  const command = fc.oneof(
    fc.record({
      kind: fc.constant('fill' as const),
      leg: fc.constantFrom('entry', 'tp', 'sl'),
      lots: fc.integer({ min: 1, max: 4 }),
    }),
    fc.record({ kind: fc.constant('answer' as const) }),
    fc.record({ kind: fc.constant('read' as const) }),
  );

  it('property: when each trade comes after the server read the ones before, the legs never fill beyond the position', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.integer({ min: 1, max: 6 }),
        fc.array(command, { maxLength: 30 }),
        async (withEntry, lots, script) => {
          const s = await setUp();
          if (!withEntry) await s.buy(lots);
          const { bracket } = await s.brackets.create(
            s.accountId,
            userId,
            request(`b${n}`, withEntry ? { entryLots: lots } : { qty: lots * LOT }),
            instruments.get('PETR4'),
            38.5,
            OPEN_RISK,
          );
          await s.deliver();
          for (const c of script) {
            const { entry, tp, sl } = await legsOf(bracket.id);
            if (c.kind === 'answer') s.broker.answer();
            else if (c.kind === 'read') await s.deliver();
            else {
              // The trade comes after every earlier report was read and acted on; the answers to
              // the changes and cancels that sent may still be on their way.
              await s.deliver();
              const order = c.leg === 'entry' ? entry : c.leg === 'tp' ? tp : sl;
              if (!order?.localOrderId) continue;
              const open = s.broker.open(order.localOrderId, true);
              if (open > 0) s.broker.fill(order.localOrderId, Math.min(open, c.lots * LOT));
            }
            const now = await legsOf(bracket.id);
            const protectedQty = withEntry ? (now.entry?.filledQty ?? 0) : lots * LOT;
            const exits = (now.tp?.filledQty ?? 0) + (now.sl?.filledQty ?? 0);
            expect(exits).toBeLessThanOrEqual(protectedQty);
          }
          await s.drain();
          const end = await legsOf(bracket.id);
          const protectedQty = withEntry ? (end.entry?.filledQty ?? 0) : lots * LOT;
          const exits = (end.tp?.filledQty ?? 0) + (end.sl?.filledQty ?? 0);
          // At the exchange too: no leg can trade past the position any more.
          for (const leg of [end.tp, end.sl])
            if (leg?.localOrderId)
              expect(s.broker.open(leg.localOrderId, false)).toBeLessThanOrEqual(protectedQty - exits);
          // Flat (everything it protected is out) means no leg works.
          if (exits === protectedQty && protectedQty > 0) {
            for (const leg of [end.tp, end.sl]) if (leg) expect(['filled', 'canceled']).toContain(leg.state);
            expect(end.b.state).toBe('closed');
          }
          // Nothing but the entry and the two legs was ever sent.
          expect(s.broker.sent.length).toBeLessThanOrEqual((withEntry ? 1 : 2) + 2);
        },
      ),
      { numRuns: 30 },
    );
  }, 240_000);

  it('property: with trades racing the reports, the legs overfill only by what traded before the server could know, and end with nothing working', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(command, { maxLength: 30 }),
        async (lots, script) => {
          const s = await setUp();
          await s.buy(lots);
          const { bracket } = await s.brackets.create(
            s.accountId,
            userId,
            request(`r${n}`, { qty: lots * LOT }),
            instruments.get('PETR4'),
            38.5,
            OPEN_RISK,
          );
          await s.deliver();
          const { tp, sl } = await legsOf(bracket.id);
          const legs = [tp, sl].map((o) => o?.localOrderId as bigint);
          let raced = 0;
          for (const c of script) {
            if (c.kind === 'answer') s.broker.answer();
            else if (c.kind === 'read') await s.deliver();
            else if (c.leg !== 'entry') {
              const id = legs[c.leg === 'tp' ? 0 : 1] as bigint;
              const other = legs[c.leg === 'tp' ? 1 : 0] as bigint;
              const qty = Math.min(s.broker.open(id, false), c.lots * LOT);
              if (qty === 0) continue;
              // What the server could not have acted on: the other leg's unread fills, and this
              // leg's change or cancel the exchange had not taken yet.
              const unread = (x: bigint) =>
                (s.broker.orders.get(x) as OrderReport).filledQty -
                ([...s.rows.values()].find((r) => r.localOrderId === x)?.filledQty ?? 0);
              const safe = Math.max(0, s.broker.open(id, true) - unread(other));
              raced += Math.max(0, qty - safe);
              s.broker.fill(id, qty);
            }
          }
          await s.drain();
          const end = await legsOf(bracket.id);
          const exits = (end.tp?.filledQty ?? 0) + (end.sl?.filledQty ?? 0);
          expect(exits).toBeLessThanOrEqual(lots * LOT + raced);
          if (exits >= lots * LOT) {
            for (const leg of [end.tp, end.sl]) expect(['filled', 'canceled']).toContain(leg?.state);
            expect(end.b.state).toBe('closed');
            expect(end.b.reason).toBe(exits > lots * LOT ? 'overfilled' : end.b.reason);
          }
          expect(s.broker.sent.length).toBe(3);
        },
      ),
      { numRuns: 30 },
    );
  }, 240_000);

  it('a partial take-profit cuts the stop to what is left; the rest of it cancels the stop', async () => {
    const s = await setUp();
    await s.buy(3);
    const { bracket } = await s.brackets.create(
      s.accountId,
      userId,
      request('p1', { qty: 300 }),
      instruments.get('PETR4'),
      38.5,
      OPEN_RISK,
    );
    await s.deliver();
    const { tp, sl } = await legsOf(bracket.id);
    expect([tp?.qty, tp?.type, tp?.side, sl?.qty, sl?.type, sl?.stopPrice]).toEqual([
      300,
      'limit',
      'sell',
      300,
      'stop_limit',
      38,
    ]);
    s.broker.fill(tp?.localOrderId as bigint, 100);
    await s.deliver();
    expect(s.broker.requests).toEqual([{ id: sl?.localOrderId, qty: 200 }]);
    s.broker.answer();
    await s.deliver();
    expect((await store.byId(sl?.id as number))?.qty).toBe(200);
    s.broker.fill(tp?.localOrderId as bigint, 200);
    await s.deliver();
    expect(s.broker.canceled).toEqual([sl?.localOrderId]);
    s.broker.answer();
    await s.deliver();
    const end = await legsOf(bracket.id);
    expect([end.tp?.state, end.sl?.state, end.b.state, end.b.reason]).toEqual([
      'filled',
      'canceled',
      'closed',
      'take_profit',
    ]);
    expect(s.m.position(s.accountId, 'PETR4').qty).toBe(0);
    expect(s.pushed.at(-1)?.state).toBe('closed');
  });

  it('an entry bracket sends its legs on the first fill and grows them with the next ones; cancelling it cancels both legs', async () => {
    const s = await setUp();
    const { bracket } = await s.brackets.create(
      s.accountId,
      userId,
      request('e1', { entryLots: 3 }),
      instruments.get('PETR4'),
      38.5,
      OPEN_RISK,
    );
    await s.deliver();
    let now = await legsOf(bracket.id);
    expect([now.b.state, now.tp, now.sl]).toEqual(['pending', undefined, undefined]);
    s.broker.fill(now.entry?.localOrderId as bigint, 100);
    await s.deliver();
    now = await legsOf(bracket.id);
    expect([now.b.state, now.tp?.qty, now.sl?.qty]).toEqual(['active', 100, 100]);
    s.broker.fill(now.entry?.localOrderId as bigint, 100);
    await s.deliver();
    expect(s.broker.requests.map((r) => r.qty)).toEqual([200, 200]);
    s.broker.answer();
    s.broker.answer();
    await s.deliver();
    await s.brackets.cancel(now.b);
    await s.deliver();
    await s.drain();
    now = await legsOf(bracket.id);
    expect([now.b.state, now.b.reason, now.tp?.state, now.sl?.state, now.entry?.state]).toEqual([
      'canceled',
      'canceled',
      'canceled',
      'canceled',
      'canceled',
    ]);
  });

  it('refuses brackets on the wrong side of the market, off the tick grid, or beyond the position', () => {
    const inst = instruments.get('PETR4');
    const ctx = { instrument: inst, reference: 38.5, positionQty: 200, protectedQty: 0 };
    const base = { clientId: 'x', ticker: 'PETR4', takeProfit: 39, stopPrice: 38, stopLimit: 37.9 };
    expect(bracketProblem(base, ctx)).toBeUndefined();
    // Prices in the sentence as the ticket writes them (pt-BR), not as JavaScript prints them.
    expect(bracketProblem({ ...base, takeProfit: 38.4 }, ctx)?.message).toBe(
      'The take-profit must be above the last trade (38,50)',
    );
    expect(bracketProblem({ ...base, takeProfit: 39.005 }, ctx)?.message).toBe(
      'The take-profit must be a multiple of the tick (0,01)',
    );
    expect(bracketProblem({ ...base, stopPrice: 38.6, takeProfit: 39 }, ctx)?.message).toMatch(
      /stop price must be below/,
    );
    expect(bracketProblem({ ...base, stopLimit: 38.1 }, ctx)?.code).toBe('bad_bracket');
    expect(bracketProblem({ ...base, takeProfit: 39.005 }, ctx)?.code).toBe('bad_price');
    expect(bracketProblem({ ...base, qty: 300 }, ctx)?.code).toBe('beyond_position');
    expect(bracketProblem({ ...base, qty: 100 }, { ...ctx, protectedQty: 200 })?.code).toBe(
      'beyond_position',
    );
    expect(bracketProblem({ ...base, qty: 150 }, ctx)?.code).toBe('bad_quantity');
    expect(bracketProblem(base, { ...ctx, positionQty: 0 })?.code).toBe('no_position');
    // Short: the take-profit under the market, the stop above.
    expect(
      bracketProblem(
        { ...base, takeProfit: 38, stopPrice: 39, stopLimit: 39.1 },
        { ...ctx, positionQty: -100 },
      ),
    ).toBeUndefined();
  });
});
