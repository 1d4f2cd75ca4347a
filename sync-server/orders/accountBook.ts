import type { Instrument } from '../shared/instruments.ts';
import { b3Day } from '../shared/market.ts';
import type { DayPnl, Position } from '../shared/orders.ts';
import { CostSchedules, fillCosts } from './costs.ts';
import type { OrderRow } from './model.ts';
import type { VenuePosition } from './ports.ts';
import { applyFill, FLAT } from './positions.ts';
import { isTerminal } from './state.ts';

// What the risk check reads of each account, kept in memory in step with the stored orders and
// fills: its positions (with the costs of their fills), the P&L realized today (B3's day) and
// today's costs, and its working orders (Tape's and those made outside it). Beside Tape's own
// count, the broker's positions as last read: the truth, which includes trades made outside Tape.

/** A ticker the broker's list leaves out is flat at the broker. */
const flatAt = (ticker: string): VenuePosition => ({ ticker, qty: 0, averagePrice: 0 });

/** What the risk check needs of a working order. */
interface OpenOrder {
  readonly ticker: string;
  readonly side: 'buy' | 'sell';
  readonly qty: number;
  readonly filledQty: number;
}

export interface Exposure {
  /** Unfilled quantity of the account's working orders on the ticker, by side. */
  readonly openBuyQty: number;
  readonly openSellQty: number;
  /** The account's working orders, every ticker. */
  readonly openOrders: number;
}

export class AccountBook {
  private readonly positions = new Map<string, Map<string, Position>>();
  private readonly today = new Map<string, { day: number } & DayPnl>();
  /** Orders a fill has been charged for: a per-order brokerage is charged on the first only. */
  private readonly charged = new Set<number>();
  /** Every working order of each account, as stored. */
  private readonly open = new Map<string, Map<number, OpenOrder>>();
  /** Each account's positions as the broker listed them at the last read. */
  private readonly broker = new Map<string, Map<string, VenuePosition>>();

  constructor(
    private readonly instruments: ReadonlyMap<string, Instrument>,
    /** Each account's cost schedules over time (the manager loads the stored ones at start-up). */
    readonly costs: CostSchedules = new CostSchedules(),
  ) {}

  position(accountId: string, ticker: string): Position {
    return this.positions.get(accountId)?.get(ticker) ?? FLAT;
  }

  positionsOf(accountId: string): Map<string, Position> {
    return this.positions.get(accountId) ?? new Map();
  }

  /** The broker's position in the ticker at the last read; undefined before the account's first. */
  brokerPosition(accountId: string, ticker: string): VenuePosition | undefined {
    const listed = this.broker.get(accountId);
    return listed && (listed.get(ticker) ?? flatAt(ticker));
  }

  /** The quantity the risk check counts: the broker's once read (it includes trades made outside Tape). */
  positionQty(accountId: string, ticker: string): number {
    return (this.brokerPosition(accountId, ticker) ?? this.position(accountId, ticker)).qty;
  }

  /** Every ticker the account has a position in, by Tape's count or by the broker's. */
  tickersOf(accountId: string): string[] {
    return [
      ...new Set([...this.positionsOf(accountId).keys(), ...(this.broker.get(accountId)?.keys() ?? [])]),
    ];
  }

  /**
   * The broker's list replaces the one read before; returns the tickers whose figure changed
   * (a ticker the new list leaves out is flat at the broker).
   */
  setBroker(accountId: string, listed: readonly VenuePosition[]): string[] {
    const before = this.broker.get(accountId);
    const after = new Map(listed.map((p) => [p.ticker, p]));
    this.broker.set(accountId, after);
    const tickers = new Set([...(before?.keys() ?? []), ...after.keys()]);
    if (!before) for (const t of this.positionsOf(accountId).keys()) tickers.add(t);
    return [...tickers].filter((t) => {
      const was = before && (before.get(t) ?? flatAt(t));
      const now = after.get(t) ?? flatAt(t);
      return !was || was.qty !== now.qty || was.averagePrice !== now.averagePrice;
    });
  }

  /** Today's realized P&L and costs, in centavos. */
  day(accountId: string): DayPnl {
    const r = this.today.get(accountId);
    return r && r.day === b3Day(Date.now())
      ? { realizedCents: r.realizedCents, costsCents: r.costsCents }
      : { realizedCents: 0, costsCents: 0 };
  }

  /** The account's working orders but `self`, as the risk check of `ticker` counts them. */
  exposure(accountId: string, ticker: string, self: number): Exposure {
    const others = [...(this.open.get(accountId) ?? new Map<number, OpenOrder>())]
      .filter(([id]) => id !== self)
      .map(([, o]) => o);
    const leaves = (side: 'buy' | 'sell') =>
      others
        .filter((o) => o.ticker === ticker && o.side === side)
        .reduce((n, o) => n + o.qty - o.filledQty, 0);
    return { openBuyQty: leaves('buy'), openSellQty: leaves('sell'), openOrders: others.length };
  }

  /** Keeps the working orders in step with the stored row. */
  track(o: OrderRow): void {
    let book = this.open.get(o.accountId);
    if (isTerminal(o.state)) {
      book?.delete(o.id);
      if (book?.size === 0) this.open.delete(o.accountId);
      return;
    }
    if (!book) {
      book = new Map();
      this.open.set(o.accountId, book);
    }
    book.set(o.id, { ticker: o.ticker, side: o.side, qty: o.qty, filledQty: o.filledQty });
  }

  /**
   * A fill of order `orderId` into the position, charged by the account's schedule in effect at
   * `at` (and into today's P&L when it is today's); undefined for an unknown ticker.
   */
  fold(
    accountId: string,
    ticker: string,
    fill: { orderId: number; side: 'buy' | 'sell'; qty: number; price: number },
    at: string,
  ): Position | undefined {
    const inst = this.instruments.get(ticker);
    if (!inst) return undefined;
    const book = this.positions.get(accountId) ?? new Map<string, Position>();
    this.positions.set(accountId, book);
    const before = book.get(ticker) ?? FLAT;
    const atMs = Date.parse(at);
    const c = fillCosts(fill, !this.charged.has(fill.orderId), inst, this.costs.at(accountId, atMs));
    this.charged.add(fill.orderId);
    const costs = c.brokerageCents + c.feesCents;
    const after = { ...applyFill(before, fill, inst), costsCents: before.costsCents + costs };
    book.set(ticker, after);
    const day = b3Day(atMs);
    if (day === b3Day(Date.now())) {
      const r = this.today.get(accountId);
      const base = r && r.day === day ? r : { realizedCents: 0, costsCents: 0 };
      this.today.set(accountId, {
        day,
        realizedCents: base.realizedCents + after.realizedCents - before.realizedCents,
        costsCents: base.costsCents + costs,
      });
    }
    return after;
  }
}
