import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { NewDeadLetter } from '../deadLetters/queue.ts';
import { createLogger } from '../log.ts';
import { type Instrument, instrumentFor } from '../shared/instruments.ts';
import type { PositionJson } from '../shared/orders.ts';
import { AuditStore } from '../store/audit.ts';
import type { Database } from '../store/db.ts';
import { OrderStore } from '../store/orders.ts';
import { createTestUser, testBackends } from '../store/testing.ts';
import { flatten } from './flatten.ts';
import { OrderManager } from './manager.ts';
import { OrderError } from './model.ts';
import type { OrderEvents, VenueAccount } from './ports.ts';
import { InvalidVenuePosition } from './profitDllAdapter.ts';
import { OPEN_RISK, ScriptedBroker, scriptedManager } from './scriptedBroker.ts';
import { positionJson } from './wire.ts';

// The broker's view is the truth (issue 19): orders made on the account outside Tape (Profit
// itself, another terminal) are kept as external orders, and the broker's positions, which
// include their trades, are what is shown, what the risk check counts and what a flatten
// closes; Tape's own count stays beside them, and a difference is recorded.

const instruments = new Map<string, Instrument>(
  ['PETR4', 'VALE3'].map((t) => [t, instrumentFor(t, 'B') as Instrument]),
);
const PETR4 = instruments.get('PETR4') as Instrument;

/** The OrderError a call throws at once (submit refuses before it starts). */
function refusal(call: () => unknown): OrderError | undefined {
  try {
    call();
  } catch (err) {
    if (err instanceof OrderError) return err;
    throw err;
  }
  return undefined;
}

/** Fills market orders at once, at 38.50, and announces every move. */
class MarketBroker extends ScriptedBroker {
  announce: (id: bigint) => void = () => {};
  override send(o: Parameters<ScriptedBroker['send']>[0] & { type?: string }) {
    const id = super.send(o);
    setImmediate(() => {
      if (o.type === 'market') this.move(id, { fill: { qty: o.qty, price: 38.5 } });
      else this.move(id, {});
      this.announce(id);
    });
    return id;
  }
}

describe.each(testBackends())('the broker is the truth on $name', (backend) => {
  let db: Database;
  let store: OrderStore;
  let userId: number;
  let n = 0;

  beforeAll(async () => {
    db = await backend.open();
    store = new OrderStore(db.sql);
    userId = await createTestUser(db, 'truth');
  }, 60_000);
  afterAll(() => db?.close());

  const setUp = async (broker = new MarketBroker()) => {
    const account = `TRUTH-${++n}`;
    await store.createAccount(account, 1, account, null);
    const pushed: PositionJson[] = [];
    const events: OrderEvents = {
      order: () => {},
      position: (_a, ticker, p, _day, b) => pushed.push(positionJson(ticker, p, PETR4, 38.5, b)),
    };
    const m = await scriptedManager(store, broker, instruments, events);
    broker.announce = (id) => m.onOrderUpdate(id);
    return { account, broker, m, pushed };
  };
  const buy = (account: string, qty: number, clientOrderId = `truth-${++n}`) => ({
    account,
    req: { clientOrderId, ticker: 'PETR4', side: 'buy' as const, type: 'market' as const, qty },
  });

  it('an order made outside Tape is kept as external: its fill moves the broker position, not Tape’s count', async () => {
    const { account, broker, m, pushed } = await setUp();
    const mine = buy(account, 200);
    const sent = await m.submit(mine.account, userId, mine.req, OPEN_RISK);
    await m.settled();
    await new Promise((r) => setImmediate(r));
    await m.settled();
    expect((await store.byId(sent.order.id))?.state).toBe('filled');
    expect(m.position(account, 'PETR4').qty).toBe(200);
    expect(m.positionQty(account, 'PETR4')).toBe(200);

    // Profit itself sells 500 on the same account: the DLL announces an order Tape never sent.
    const outside = broker.outside(account, 'PETR4', 'sell', 500, 38.6);
    m.onOrderUpdate(outside);
    await m.settled();
    const external = await store.byLocalId(outside);
    expect(external).toMatchObject({
      origin: 'external',
      userId: null,
      clientOrderId: `ext-${outside}`,
      state: 'filled',
      filledQty: 500,
      side: 'sell',
    });
    // Its fill is stored (marked external) but Tape's own count is still its own fills.
    const fills = await store.fills(account);
    expect(fills.map((f) => [f.qty, f.external])).toEqual([
      [200, false],
      [500, true],
    ]);
    expect(m.position(account, 'PETR4').qty).toBe(200);
    expect(m.positionQty(account, 'PETR4')).toBe(-300);
    // Shown: the broker's 300 short at its average (a reversal: the new side's price), flagged.
    const last = pushed.at(-1) as PositionJson;
    expect(last).toMatchObject({ qty: -300, tapeQty: 200, outside: true, broker: { qty: -300 } });
    expect(last.averagePrice).toBeCloseTo(38.6, 6);
    // Marked at 38.50, the short gained 0.10 × 300 = R$30 (3,000 centavos).
    expect(last.unrealizedCents).toBe(3_000);
    await new Promise((r) => setTimeout(r, 50)); // the record is written after the push
    const audit = await new AuditStore(db.sql).list({ target: `account:${account}:PETR4`, limit: 10 });
    expect(audit.map((e) => [e.action, e.target])).toContainEqual([
      'position.difference',
      `account:${account}:PETR4`,
    ]);
  });

  it('the risk check counts the broker position: a max-position limit refuses what Tape’s own count would pass', async () => {
    const { account, broker, m } = await setUp();
    const limits = { ...OPEN_RISK, maxPositionQty: 1_000 };
    // 900 bought outside Tape: by Tape's own count (0) a buy of 500 is within ±1,000; it is not.
    m.onOrderUpdate(broker.outside(account, 'PETR4', 'buy', 900, 38.5));
    await m.settled();
    expect(m.position(account, 'PETR4').qty).toBe(0);
    const r = await m.submit(account, userId, buy(account, 500).req, limits);
    expect(r.risk?.ok).toBe(false);
    expect(r.order).toMatchObject({ state: 'rejected', rejectReason: 'max_position' });
    // 100 more stays within it.
    const ok = await m.submit(account, userId, buy(account, 100).req, limits);
    expect(ok.risk?.ok).toBe(true);
  });

  it('working orders made outside Tape are adopted at start-up and count toward the open-order limit', async () => {
    const broker = new MarketBroker();
    const account = `TRUTH-${++n}`;
    await store.createAccount(account, 1, account, null);
    // Before Tape starts, Profit left a limit buy working on the account.
    const id = broker.send({
      account: { brokerId: 1, accountId: account },
      ticker: 'PETR4',
      side: 'buy',
      qty: 100,
    });
    broker.move(id, {});
    const m = await scriptedManager(store, broker, instruments);
    broker.announce = (x) => m.onOrderUpdate(x);
    const adopted = await store.byLocalId(id);
    expect(adopted).toMatchObject({ origin: 'external', state: 'new', qty: 100 });
    const r = await m.submit(account, userId, buy(account, 100).req, { ...OPEN_RISK, maxOpenOrders: 1 });
    expect(r.order).toMatchObject({ state: 'rejected', rejectReason: 'max_open_orders' });
    // Tape can cancel it like its own.
    await m.cancel(adopted as NonNullable<typeof adopted>);
    expect(broker.canceled).toContain(id);
  });

  it('a flatten closes the broker position, trades made outside Tape included', async () => {
    const { account, broker, m } = await setUp();
    const mine = buy(account, 300);
    await m.submit(account, userId, mine.req, OPEN_RISK);
    m.onOrderUpdate(broker.outside(account, 'PETR4', 'buy', 200, 38.4));
    await m.settled();
    await new Promise((r) => setTimeout(r, 20));
    await m.settled();
    expect(m.positionQty(account, 'PETR4')).toBe(500);
    const [done] = await flatten(
      m,
      store,
      { accountId: account, userId, risk: OPEN_RISK },
      {
        clientOrderId: `flat-${++n}`,
        ticker: 'PETR4',
        reverse: false,
      },
    );
    expect(done).toMatchObject({ ticker: 'PETR4', positionQty: 500 });
    expect(done?.order?.order.qty).toBe(500);
    await new Promise((r) => setTimeout(r, 20));
    await m.settled();
    expect(m.positionQty(account, 'PETR4')).toBe(0);
    // Tape's own count went 300 → −200: the broker's flat is what counts, and is shown.
    expect(m.position(account, 'PETR4').qty).toBe(-200);
  });

  it('the routing lost: orders wait; back: what happened meanwhile is read before any order is taken', async () => {
    const { account, broker, m } = await setUp();
    await m.submit(account, userId, buy(account, 100).req, OPEN_RISK);
    await new Promise((r) => setTimeout(r, 20));
    await m.settled();
    m.routingChanged(3); // broker disconnected
    expect(m.routingState).toBe('down');
    expect(refusal(() => m.submit(account, userId, buy(account, 100).req, OPEN_RISK))).toMatchObject({
      status: 503,
      code: 'broker_disconnected',
    });
    // Meanwhile Profit sold 400 on the account; the DLL announced nothing to a disconnected Tape.
    const outside = broker.outside(account, 'PETR4', 'sell', 400, 38.7);
    m.routingChanged(5);
    // Read again first: an order asked now is refused until the account has been read.
    expect(refusal(() => m.submit(account, userId, buy(account, 100).req, OPEN_RISK))).toMatchObject({
      status: 503,
      code: 'reconciling',
    });
    await vi.waitFor(() => expect(m.routingState).toBe('up'));
    expect(await store.byLocalId(outside)).toMatchObject({ origin: 'external', state: 'filled' });
    expect(m.positionQty(account, 'PETR4')).toBe(-300);
    expect(m.position(account, 'PETR4').qty).toBe(100);
    const after = await m.submit(account, userId, buy(account, 100).req, OPEN_RISK);
    expect(after.created).toBe(true);
  });

  it('letters what it cannot keep: an order on an account Tape lacks (unknown_order), positions the DLL gives malformed (invalid_position)', async () => {
    const letters: NewDeadLetter[] = [];
    let malformed = false;
    class Garbled extends MarketBroker {
      override positions(account: VenueAccount) {
        if (malformed) throw new InvalidVenuePosition('PETR4: quantity 1.5 is not an integer', { qty: 1.5 });
        return super.positions(account);
      }
    }
    const broker = new Garbled();
    const account = `TRUTH-${++n}`;
    await store.createAccount(account, 1, account, null);
    const m = new OrderManager(
      store,
      broker,
      { lastPrice: () => 38.5, priceLimits: () => undefined, tradable: () => true },
      { order: () => {}, position: () => {} },
      (l) => letters.push(l),
      createLogger('silent'),
      instruments,
    );
    await m.reconcile();
    broker.announce = (id) => m.onOrderUpdate(id);
    // Another terminal's order on an account Tape does not have: kept nowhere, lettered.
    m.onOrderUpdate(broker.outside('NOT-TAPES', 'PETR4', 'buy', 100, 38.5));
    await m.settled();
    expect(letters.map((l) => l.reason)).toEqual(['unknown_order']);
    // One on Tape's account moves the broker's figure; then the DLL's answer goes bad: lettered,
    // and the last good figure is kept.
    m.onOrderUpdate(broker.outside(account, 'PETR4', 'buy', 300, 38.5));
    await m.settled();
    expect(m.positionQty(account, 'PETR4')).toBe(300);
    malformed = true;
    m.onOrderUpdate(broker.outside(account, 'PETR4', 'buy', 100, 38.5));
    await m.settled();
    expect(letters.map((l) => [l.source, l.reason])).toContainEqual([
      'profitdll.position',
      'invalid_position',
    ]);
    expect(m.positionQty(account, 'PETR4')).toBe(300);
    // A difference found after a fill is read again a second later; stopped, the manager reads
    // the venue no more (the timer cleared with it).
    malformed = false;
    m.onOrderUpdate(broker.outside(account, 'PETR4', 'buy', 100, 38.5));
    await m.settled();
    let reads = 0;
    const read = broker.positions.bind(broker);
    broker.positions = (a) => {
      reads++;
      return read(a);
    };
    await m.stop();
    await new Promise((r) => setTimeout(r, 1_200));
    expect(reads).toBe(0);
  });
});
