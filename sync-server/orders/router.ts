import type { ProfitConnector } from '../../native/profitdll.ts';
import type { AccountRef, DllOrder } from '../../native/types.ts';
import { jsonSafe, type NewDeadLetter } from '../deadLetters/queue.ts';
import type { OrderRouter, RouterOrder } from './manager.ts';

// The order manager's router over the ProfitDLL binding. Everything the DLL reports about an
// order is checked here before the manager acts on it: a malformed order is refused with the
// reason, never half-applied.

export class InvalidDllOrder extends Error {
  override name = 'InvalidDllOrder';
  constructor(
    readonly reason: string,
    readonly order: DllOrder,
  ) {
    super(`ProfitDLL reported an invalid order ${order.localOrderId}: ${reason}`);
  }
}

/** The dead letter of an order the DLL reported malformed (read for an update, or listed). */
export const invalidOrderLetter = (err: InvalidDllOrder): NewDeadLetter => ({
  source: 'profitdll.order',
  reason: 'invalid_order',
  detail: err.message,
  payload: jsonSafe(err.order),
});

const SIDES: Record<number, 'buy' | 'sell'> = { 1: 'buy', 2: 'sell' };

/** A DLL order as the manager may use it, or InvalidDllOrder saying what is wrong. */
export function parseDllOrder(d: DllOrder): RouterOrder {
  const bad = (reason: string) => new InvalidDllOrder(reason, d);
  if (d.localOrderId <= 0n) throw bad('local order id is not positive');
  if (!Number.isInteger(d.status) || d.status < 0 || d.status > 255)
    throw bad(`status ${d.status} is not a byte`);
  const side = SIDES[d.side];
  if (!side) throw bad(`side ${d.side} is neither buy (1) nor sell (2)`);
  if (!Number.isSafeInteger(d.qty) || d.qty <= 0) throw bad(`quantity ${d.qty} is not a positive integer`);
  if (!Number.isSafeInteger(d.tradedQty) || d.tradedQty < 0 || d.tradedQty > d.qty)
    throw bad(`traded quantity ${d.tradedQty} is outside 0..${d.qty}`);
  if (!Number.isFinite(d.averagePrice) || d.averagePrice < 0 || (d.tradedQty > 0 && d.averagePrice === 0))
    throw bad(`average price ${d.averagePrice} is not a price`);
  if (!Number.isFinite(d.price)) throw bad(`price ${d.price} is not finite`);
  if (d.ticker === '' || !d.ticker.isWellFormed()) throw bad('ticker is empty or not well-formed UTF-16');
  return {
    localOrderId: d.localOrderId,
    clOrderId: d.clOrderId,
    accountId: d.accountId,
    ticker: d.ticker,
    side,
    status: d.status,
    qty: d.qty,
    tradedQty: d.tradedQty,
    averagePrice: d.averagePrice,
    price: d.price > 0 ? d.price : null,
    createdAt: d.date,
    text: d.text.toWellFormed(),
  };
}

type Binding = Pick<
  ProfitConnector,
  'sendOrder' | 'cancelOrder' | 'changeOrder' | 'orderDetails' | 'enumerateOrders'
>;

export class DllOrderRouter implements OrderRouter {
  constructor(
    private readonly dll: Binding,
    /** The routing password (PROFITDLL_ROUTING_PASSWORD): kept here, never logged. */
    private readonly password: string,
    /** Orders in the DLL's list that fail parseDllOrder: they are reported, not used. */
    private readonly onInvalid: (err: InvalidDllOrder) => void,
  ) {}

  send(o: Parameters<OrderRouter['send']>[0]): bigint {
    return this.dll.sendOrder({ ...o, password: this.password });
  }

  cancel(account: AccountRef, localOrderId: bigint): void {
    this.dll.cancelOrder(account, localOrderId, this.password);
  }

  change(account: AccountRef, localOrderId: bigint, price: number, qty: number): void {
    this.dll.changeOrder(account, localOrderId, price, qty, this.password);
  }

  details(localOrderId: bigint): RouterOrder {
    return parseDllOrder(this.dll.orderDetails(localOrderId));
  }

  enumerate(account: AccountRef): RouterOrder[] {
    return this.dll.enumerateOrders(account).flatMap((d) => {
      try {
        return [parseDllOrder(d)];
      } catch (err) {
        if (!(err instanceof InvalidDllOrder)) throw err;
        this.onInvalid(err);
        return [];
      }
    });
  }
}
