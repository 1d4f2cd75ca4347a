import { createLogger } from '../log.ts';
import type { Instrument } from '../shared/instruments.ts';
import type { RiskConfig } from '../shared/orders.ts';
import { OrderManager } from './manager.ts';
import type { OrderEvents, OrderRepository, VenueAccount, VenuePosition } from './ports.ts';
import type { OrderReport } from './report.ts';
import { DEFAULT_RISK } from './risk.ts';

// A broker behind the manager's OrderVenue port that a test scripts: it decides when the DLL
// moves an order on and how many times it announces each move (manager.test.ts, flatten.test.ts,
// brackets.test.ts), and the reconciled manager over it that flatten and bracket tests drive.

/** Limits far out of the way: these tests' orders are judged by the broker's script, not risk. */
export const OPEN_RISK: RiskConfig = {
  ...DEFAULT_RISK,
  maxOrderQty: 1_000_000,
  maxOrderNotionalCents: 10_000_000_000,
  maxPositionQty: 10_000_000,
  maxOpenOrders: 10_000,
  dailyLossLimitCents: 10_000_000_000,
  ordersPerSecond: 100_000,
  orderBurst: 100_000,
};

/** A manager over the store and the broker, the market at 38.50 and open, reconciled. */
export async function scriptedManager(
  store: OrderRepository,
  broker: ScriptedBroker,
  instruments: ReadonlyMap<string, Instrument>,
  events: OrderEvents = { order: () => {}, position: () => {} },
): Promise<OrderManager> {
  const m = new OrderManager(
    store,
    broker,
    { lastPrice: () => 38.5, priceLimits: () => undefined, tradable: () => true },
    events,
    () => {},
    createLogger('silent'),
    instruments,
  );
  await m.reconcile();
  return m;
}

// Local ids are unique in the orders table: one sequence over every broker of the file.
let nextLocalId = 1_000n;

/** The DLL's order book as the test scripts it; `reads` counts GetOrderDetails calls. */
export class ScriptedBroker {
  readonly orders = new Map<bigint, OrderReport>();
  readonly reads = new Map<bigint, number>();
  /** Called with each new local id once send() returned, as the DLL's callback would be. */
  onSend: (id: bigint) => void = () => {};
  send(o: { account: VenueAccount; ticker: string; side: 'buy' | 'sell'; qty: number }): bigint {
    const id = nextLocalId++;
    this.orders.set(id, {
      localOrderId: id,
      clOrderId: '',
      accountId: o.account.accountId,
      ticker: o.ticker,
      side: o.side,
      status: 'submitted',
      venueStatus: 10,
      qty: o.qty,
      filledQty: 0,
      avgPrice: 0,
      price: null,
      stopPrice: null,
      stopTriggered: false,
      createdAt: Date.now(),
      text: '',
    });
    queueMicrotask(() => this.onSend(id));
    return id;
  }
  /** Local ids the manager asked to cancel, in order. */
  readonly canceled: bigint[] = [];
  cancel(_account: VenueAccount, id: bigint) {
    this.canceled.push(id);
  }
  change(_account: VenueAccount, _id: bigint, _price: number, _qty: number, _stopPrice?: number) {}
  details(id: bigint): OrderReport {
    this.reads.set(id, (this.reads.get(id) ?? 0) + 1);
    const o = this.orders.get(id);
    if (!o) throw new Error(`no order ${id}`);
    return o;
  }
  enumerate(account?: VenueAccount): OrderReport[] {
    return [...this.orders.values()].filter((o) => !account || o.accountId === account.accountId);
  }
  /** The broker's positions, by account then ticker: every fill of the script, and trades outside Tape. */
  readonly held = new Map<string, Map<string, { qty: number; averagePrice: number }>>();
  positions(account: VenueAccount): VenuePosition[] {
    return [...(this.held.get(account.accountId) ?? new Map())].map(([ticker, p]) => ({ ticker, ...p }));
  }
  /** A fill into the broker's position: a reduction keeps the average, a reversal starts a new one. */
  private hold(accountId: string, ticker: string, side: 'buy' | 'sell', qty: number, price: number) {
    const book = this.held.get(accountId) ?? new Map<string, { qty: number; averagePrice: number }>();
    this.held.set(accountId, book);
    const before = book.get(ticker) ?? { qty: 0, averagePrice: 0 };
    const signed = side === 'buy' ? qty : -qty;
    const after = before.qty + signed;
    const adds = before.qty === 0 || Math.sign(before.qty) === Math.sign(signed);
    const averagePrice =
      after === 0
        ? 0
        : adds
          ? (before.averagePrice * Math.abs(before.qty) + price * qty) / Math.abs(after)
          : Math.sign(after) === Math.sign(before.qty)
            ? before.averagePrice
            : price;
    book.set(ticker, { qty: after, averagePrice });
  }
  /**
   * An order made on the account outside Tape (Profit itself), filled at once: in the broker's
   * list and position; its id, which the test announces as the DLL's callback would.
   */
  outside(accountId: string, ticker: string, side: 'buy' | 'sell', qty: number, price: number): bigint {
    const id = nextLocalId++;
    this.orders.set(id, {
      localOrderId: id,
      clOrderId: '',
      accountId,
      ticker,
      side,
      status: 'filled',
      venueStatus: 2,
      qty,
      filledQty: qty,
      avgPrice: price,
      price,
      stopPrice: null,
      stopTriggered: false,
      createdAt: Date.now(),
      text: '',
    });
    this.hold(accountId, ticker, side, qty, price);
    return id;
  }
  /** The broker closes the order: canceled, with what it had filled. */
  cancelNow(id: bigint) {
    this.orders.set(id, { ...(this.orders.get(id) as OrderReport), status: 'canceled', venueStatus: 4 });
  }
  /** The broker moves the order on: accepted, or `qty` more traded at `price`. */
  move(id: bigint, step: { fill?: { qty: number; price: number } }) {
    const o = this.orders.get(id) as OrderReport;
    if (!step.fill) {
      this.orders.set(id, { ...o, status: 'accepted', venueStatus: 0 });
      return;
    }
    this.hold(o.accountId, o.ticker, o.side, step.fill.qty, step.fill.price);
    const traded = o.filledQty + step.fill.qty;
    const average = (o.avgPrice * o.filledQty + step.fill.price * step.fill.qty) / traded;
    const done = traded >= o.qty;
    this.orders.set(id, {
      ...o,
      status: done ? 'filled' : 'partially_filled',
      venueStatus: done ? 2 : 1,
      filledQty: traded,
      avgPrice: average,
    });
  }
}
