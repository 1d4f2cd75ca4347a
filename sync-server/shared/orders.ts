import { centavos, type Instrument } from './instruments.ts';

// The order path's wire, shared by the server and the app: an order's states, the order, event,
// fill and position JSON that REST and the account push carry, how a position is marked to a
// price, and an account's risk limits.

/** An order's states; the transitions between them are orders/state.ts's table. */
export const ORDER_STATES = [
  'pending_new',
  'new',
  'partially_filled',
  'pending_cancel',
  'pending_replace',
  'filled',
  'canceled',
  'rejected',
  'expired',
] as const;
export type OrderState = (typeof ORDER_STATES)[number];

/**
 * An order's types. A `stop_limit` waits off the book until a trade crosses its `stopPrice`
 * (a buy: at or above it; a sell: at or below), then works as a limit order at `price`.
 */
export const ORDER_TYPES = ['limit', 'market', 'stop_limit'] as const;
export type OrderType = (typeof ORDER_TYPES)[number];

export const TERMINAL: ReadonlySet<OrderState> = new Set(['filled', 'canceled', 'rejected', 'expired']);

/** An order as REST and the account push show it (money in reais; ids as strings). */
export interface OrderJson {
  readonly id: number;
  readonly accountId: string;
  readonly clientOrderId: string;
  readonly ticker: string;
  readonly side: 'buy' | 'sell';
  readonly type: OrderType;
  readonly qty: number;
  /** Limit price; null for a market order. */
  readonly price: number | null;
  /** A stop-limit's stop (trigger) price; null for the other types. */
  readonly stopPrice: number | null;
  /** When a stop-limit's stop was triggered; null while it waits, and for the other types. */
  readonly triggeredAt: string | null;
  readonly state: string;
  readonly filledQty: number;
  readonly avgFillPrice: number | null;
  readonly localOrderId: string | null;
  readonly rejectReason: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** One instrument's position; P&L in integer centavos, marked to the last trade when there is one. */
export interface PositionJson {
  readonly ticker: string;
  readonly qty: number;
  readonly averagePrice: number | null;
  readonly costCents: number;
  readonly realizedCents: number;
  readonly lastPrice: number | null;
  readonly unrealizedCents: number | null;
}

/** One event of an order's trail, as the store reads it and `GET /api/v1/orders/:id/events` returns it. */
export interface OrderEventRow {
  readonly id: number;
  readonly orderId: number;
  readonly event: string;
  readonly fromState: string | null;
  readonly toState: string;
  readonly detail: unknown;
  readonly at: string;
}

/** One fill, as the store reads it and `GET /api/v1/fills` returns it. */
export interface FillRow {
  readonly id: number;
  readonly orderId: number;
  readonly accountId: string;
  readonly ticker: string;
  readonly exchange: string;
  readonly side: 'buy' | 'sell';
  readonly qty: number;
  readonly price: number;
  readonly at: string;
}

/** A position as the server folds it from fills (orders/positions.ts). */
export interface Position {
  /** Signed: positive long, negative short. */
  readonly qty: number;
  /** Signed centavos paid for the open quantity (negative for a short: what was received). */
  readonly costCents: number;
  readonly realizedCents: number;
}

/** Unrealized P&L marked to `price`: what the open quantity is worth minus what it cost. */
export const unrealizedCents = (p: Position, price: number, inst: Pick<Instrument, 'multiplier'>) =>
  p.qty === 0 ? 0 : Math.sign(p.qty) * centavos(price, Math.abs(p.qty), inst) - p.costCents;

/** An account's pre-trade limits (orders/risk.ts checks them; its DEFAULT_RISK is a new account's). */
export interface RiskConfig {
  /** Admin kill switch: every new order is rejected. */
  readonly killSwitch: boolean;
  readonly maxOrderQty: number;
  /** Max notional of one order, integer centavos. */
  readonly maxOrderNotionalCents: number;
  /** Max absolute position per instrument after the order (counting open orders on that side). */
  readonly maxPositionQty: number;
  readonly maxOpenOrders: number;
  /** Once today's realized loss reaches this (centavos, positive), only exposure-reducing orders pass. */
  readonly dailyLossLimitCents: number;
  /**
   * A limit price (a stop-limit's stop price) further than this from the last trade is a fat
   * finger (percent).
   */
  readonly priceBandPct: number;
  /** Token bucket: sustained orders per second, and the burst allowed. */
  readonly ordersPerSecond: number;
  readonly orderBurst: number;
}
