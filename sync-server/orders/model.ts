import { Refusal } from '../refusal.ts';
import type { OrderState, OrderType } from '../shared/orders.ts';

// An order as the orders capability keeps it: the stored row, what a new one is written with,
// and a change of its state. store/orders.ts (OrderStore) is the SQL behind them.

/** An order as stored (the orders table), what the manager works from. */
export interface OrderRow {
  readonly id: number;
  readonly accountId: string;
  /** Who sent it; null for an order Tape did not send (`origin` external). */
  readonly userId: number | null;
  /**
   * `tape`: sent by Tape; `external`: made on the same account outside Tape (Profit itself,
   * another terminal), known from the DLL's order reports. Its client id is `ext-<local id>`.
   */
  readonly origin: 'tape' | 'external';
  readonly clientOrderId: string;
  readonly requestHash: string;
  readonly ticker: string;
  readonly exchange: string;
  readonly side: 'buy' | 'sell';
  readonly type: OrderType;
  readonly qty: number;
  readonly price: number | null;
  /** A stop-limit's stop price; null for the other types. */
  readonly stopPrice: number | null;
  /** When a stop-limit was triggered (ISO); null while it waits, and for the other types. */
  readonly triggeredAt: string | null;
  readonly state: OrderState;
  readonly filledQty: number;
  readonly avgFillPrice: number | null;
  readonly localOrderId: bigint | null;
  readonly rejectReason: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type NewOrder = Pick<
  OrderRow,
  | 'accountId'
  | 'userId'
  | 'clientOrderId'
  | 'requestHash'
  | 'ticker'
  | 'exchange'
  | 'side'
  | 'type'
  | 'qty'
  | 'price'
> &
  Partial<Pick<OrderRow, 'stopPrice' | 'origin'>>;

export interface StateChange {
  readonly event: string;
  readonly from: OrderState;
  /** When given, the change applies only if the row's filled quantity is still this too. */
  readonly fromFilledQty?: number;
  readonly to: OrderState;
  readonly filledQty?: number;
  readonly avgFillPrice?: number | null;
  readonly rejectReason?: string;
  readonly detail?: Record<string, unknown>;
  readonly fill?: { readonly qty: number; readonly price: number };
  /** A replacement's new total quantity and limit price (and a waiting stop's stop price). */
  readonly qty?: number;
  readonly price?: number;
  readonly stopPrice?: number;
  /** The change is a stop-limit's trigger: the row records when. */
  readonly triggered?: boolean;
}

/** A request the orders capability refuses (unknown account, order closed, too many pending…). */
export class OrderError extends Refusal {}
