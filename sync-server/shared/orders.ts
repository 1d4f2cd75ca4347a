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
  /** Made on the account outside Tape (Profit itself, another terminal): known from the broker. */
  readonly external: boolean;
}

/**
 * One instrument's position; P&L in integer centavos, marked to the last trade when there is one.
 * Gross P&L is realized + unrealized; `costsCents` is what its fills were charged (brokerage and
 * B3 fees, orders/costs.ts) and `netCents` the gross less them (netPnl). `costCents`, without the
 * s, is the open quantity's cost basis, not a charge.
 */
export interface PositionJson {
  readonly ticker: string;
  /** The quantity held: the broker's once read (Profit's and other terminals' trades in it), else Tape's count. */
  readonly qty: number;
  /** The average price of `qty`: the broker's when it differs from Tape's. */
  readonly averagePrice: number | null;
  /** The cost basis of `qty` at `averagePrice`, signed centavos. */
  readonly costCents: number;
  /** Tape's own count: the fills of the orders Tape sent. */
  readonly tapeQty: number;
  /** The broker's figure at the last read; null before it was read (or with routing off). */
  readonly broker: { readonly qty: number; readonly averagePrice: number | null } | null;
  /**
   * The broker's position differs from Tape's count: it includes trades made outside Tape
   * (Profit itself, another terminal), and `qty`, the average and the unrealized P&L are the
   * broker's. Realized P&L and costs are still those of Tape's own fills.
   */
  readonly outside: boolean;
  readonly realizedCents: number;
  readonly lastPrice: number | null;
  readonly unrealizedCents: number | null;
  readonly costsCents: number;
  readonly netCents: number;
}

/** Net P&L: realized plus unrealized (none without a mark: carried at cost) less the costs charged. */
export const netPnl = (p: { realizedCents: number; costsCents: number }, unrealized: number | null) =>
  p.realizedCents + (unrealized ?? 0) - p.costsCents;

/** An account's P&L of today's B3 session: realized by today's fills, and their costs. */
export interface DayPnl {
  readonly realizedCents: number;
  readonly costsCents: number;
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
  /** A fill of an order Tape did not send (made in Profit or another terminal). */
  readonly external: boolean;
}

/** A position as the server folds it from fills (orders/positions.ts). */
export interface Position {
  /** Signed: positive long, negative short. */
  readonly qty: number;
  /** Signed centavos paid for the open quantity (negative for a short: what was received). */
  readonly costCents: number;
  readonly realizedCents: number;
  /** Brokerage and B3 fees its fills were charged, centavos (never negative). */
  readonly costsCents: number;
}

/** Unrealized P&L marked to `price`: what the open quantity is worth minus what it cost. */
export const unrealizedCents = (p: Position, price: number, inst: Pick<Instrument, 'multiplier'>) =>
  p.qty === 0 ? 0 : Math.sign(p.qty) * centavos(price, Math.abs(p.qty), inst) - p.costCents;

/**
 * What an account's fills are charged (orders/costs.ts applies it; DEFAULT_COSTS is an account's
 * without one). Money in integer centavos, the equities rate in millionths of the notional.
 */
export interface CostSchedule {
  /** `per_order`: brokerageCents once per order, on its first fill; `per_unit`: per share or contract filled. */
  readonly brokerage: 'per_order' | 'per_unit';
  readonly brokerageCents: number;
  /** B3's fees (emolumentos + liquidação) on the cash market, parts per million of the notional: 230 = 0,0230 %. */
  readonly equitiesFeePpm: number;
  /** B3's fees on futures (WIN, WDO, IND, DOL), centavos per contract: B3 charges futures per contract. */
  readonly futuresFeeCents: number;
}

/** An account's cost schedule as `GET` and `PUT /api/v1/costs` answer it. */
export interface CostsAnswer {
  readonly account: string;
  readonly schedule: CostSchedule;
  /** False while the account has the defaults (no schedule stored). */
  readonly set: boolean;
  /** When the schedule took effect (null: the defaults). */
  readonly since: string | null;
}

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

/** A bracket's life: waiting for its entry to fill, legs working, done, or cancelled. */
export const BRACKET_STATES = ['pending', 'active', 'closed', 'canceled'] as const;
export type BracketState = (typeof BRACKET_STATES)[number];

/**
 * An OCO bracket as REST and the account push show it: a take-profit (limit) and a stop-loss
 * (stop-limit) on the position's closing side; a fill of one reduces or cancels the other.
 */
export interface BracketJson {
  readonly id: number;
  readonly accountId: string;
  readonly clientId: string;
  readonly ticker: string;
  /** The position it protects. */
  readonly side: 'long' | 'short';
  /** The quantity its legs were sized to (with an entry, what the entry has filled). */
  readonly qty: number;
  readonly takeProfit: number;
  readonly stopPrice: number;
  readonly stopLimit: number;
  readonly entryOrderId: number | null;
  readonly takeProfitOrderId: number | null;
  readonly stopLossOrderId: number | null;
  readonly state: BracketState;
  /** Why it closed: take_profit, stop_loss, canceled, flattened, leg_closed, entry_closed, overfilled… */
  readonly reason: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}
