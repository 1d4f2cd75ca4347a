import { createLogger } from '../log.ts';
import type { Instrument } from '../shared/instruments.ts';
import type { RiskConfig } from '../shared/orders.ts';
import { OrderManager } from './manager.ts';
import type { OrderEvents, OrderRepository, VenueAccount } from './ports.ts';
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
  enumerate(): OrderReport[] {
    return [...this.orders.values()];
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
