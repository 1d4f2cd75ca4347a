import type { CostSchedule, DayPnl, FillRow, OrderType, Position } from '../shared/orders.ts';
import type { NewOrder, OrderRow, StateChange } from './model.ts';
import type { OrderReport } from './report.ts';
import type { PriceLimits } from './risk.ts';

// What the orders capability needs from outside, each as a port it owns: the venue orders go
// to (profitDllAdapter.ts over ProfitDLL), where orders are stored (store/orders.ts), the
// market's prices, and who is told of a change (service.ts's account pushes).

/** A trading account at its venue. */
export interface VenueAccount {
  readonly brokerId: number;
  readonly accountId: string;
}

/** The venue refused a request synchronously: it proves the venue did not take it. */
export class VenueRefused extends Error {
  override name = 'VenueRefused';
  constructor(
    message: string,
    /** The venue's own name for the refusal, e.g. NL_INVALID_TICKER. */
    readonly code: string,
  ) {
    super(message);
  }
}

/**
 * A position as the venue (the broker) holds it: every trade on the account, Tape's and those
 * made outside it (Profit itself, another terminal). The truth Tape's own count is set against.
 */
export interface VenuePosition {
  readonly ticker: string;
  /** Signed: positive long, negative short. */
  readonly qty: number;
  /** The broker's average price of the open quantity; 0 when flat. */
  readonly averagePrice: number;
}

/** The venue's order API. Each call throws VenueRefused when the venue refuses it. */
export interface OrderVenue {
  /** Sends the order; returns the venue's id of it. */
  send(o: {
    account: VenueAccount;
    ticker: string;
    exchange: string;
    side: 'buy' | 'sell';
    type: OrderType;
    price: number | undefined;
    /** A stop-limit's stop price. */
    stopPrice?: number | undefined;
    qty: number;
  }): bigint;
  cancel(account: VenueAccount, localOrderId: bigint): void;
  /** A new limit price and total quantity, and for a waiting stop-limit its stop price. */
  change(account: VenueAccount, localOrderId: bigint, price: number, qty: number, stopPrice?: number): void;
  /** The order as the venue has it now. */
  details(localOrderId: bigint): OrderReport;
  /** Every order of the account the venue knows (start-up reconciliation). */
  enumerate(account: VenueAccount): OrderReport[];
  /** The account's positions as the venue holds them, one per instrument it has traded. */
  positions(account: VenueAccount): VenuePosition[];
}

/** Where orders, their events and fills are stored (store/orders.ts implements it). */
export interface OrderRepository {
  insertPending(o: NewOrder): Promise<{ order: OrderRow; created: boolean }>;
  setLocalId(orderId: number, localOrderId: bigint): Promise<OrderRow>;
  /** The change if the row is still where it says it comes from; undefined when it moved. */
  transition(orderId: number, c: StateChange): Promise<OrderRow | undefined>;
  byId(id: number): Promise<OrderRow | undefined>;
  byLocalId(localOrderId: bigint): Promise<OrderRow | undefined>;
  /** Which of these venue ids some order already carries. */
  knownLocalIds(ids: readonly bigint[]): Promise<bigint[]>;
  list(accountId: string, opts: { working?: boolean; limit: number }): Promise<OrderRow[]>;
  byClientId(accountId: string, clientOrderId: string): Promise<OrderRow | undefined>;
  allWorking(): Promise<OrderRow[]>;
  fills(): Promise<FillRow[]>;
  /** Every account's cost schedules as stored, each with when it took effect (ms since the epoch). */
  costSchedules(): Promise<{ accountId: string; from: number; schedule: CostSchedule }[]>;
  brokerOf(accountId: string): Promise<number | undefined>;
  /** Every trading account's id. */
  accountIds(): Promise<string[]>;
  /**
   * Records that the broker's position differs from Tape's own count (or agrees again): an
   * audit entry `position.difference` (`position.agreed`), no actor.
   */
  recordPositionDifference(
    accountId: string,
    ticker: string,
    tape: { qty: number; averagePrice: number | null },
    broker: { qty: number; averagePrice: number | null },
  ): Promise<void>;
}

export interface MarketLookup {
  lastPrice(ticker: string): number | undefined;
  /** The exchange's price limits for the day, when it sets them. */
  priceLimits(ticker: string): PriceLimits | undefined;
  tradable(ticker: string): boolean;
}

export interface OrderEvents {
  /** Pushed to the owning account's sockets. */
  order(order: OrderRow): void;
  /**
   * The position after a fill, or after the broker's figure for it changed, with the account's
   * day so far: Tape's own count, and the broker's when it has been read.
   */
  position(
    accountId: string,
    ticker: string,
    position: Position,
    day: DayPnl,
    broker: VenuePosition | undefined,
  ): void;
}
