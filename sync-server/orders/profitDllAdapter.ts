import { NL, ProfitDllError } from '../../native/errors.ts';
import type { ProfitConnector } from '../../native/profitdll.ts';
import type { BrokerPosition, DllOrder } from '../../native/types.ts';
import { OrderType as DllOrderType } from '../../native/types.ts';
import { jsonSafe, type NewDeadLetter } from '../deadLetters/queue.ts';
import type { OrderType } from '../shared/orders.ts';
import { type OrderVenue, type VenueAccount, type VenuePosition, VenueRefused } from './ports.ts';
import type { OrderReport, ReportStatus } from './report.ts';

// The orders' venue over the ProfitDLL binding. Everything the DLL reports about an order is
// checked here and translated into an OrderReport before the manager acts on it: a malformed
// order is refused with the reason, never half-applied; the DLL's refusals become VenueRefused.

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

/** Positions the DLL gave that Tape refuses (or could not read): the last figures stay. */
export class InvalidVenuePosition extends Error {
  override name = 'InvalidVenuePosition';
  constructor(
    readonly reason: string,
    readonly position: unknown,
  ) {
    super(`ProfitDLL gave an invalid position: ${reason}`);
  }
}

export const invalidPositionLetter = (err: InvalidVenuePosition): NewDeadLetter => ({
  source: 'profitdll.position',
  reason: 'invalid_position',
  detail: err.message,
  payload: jsonSafe(err.position),
});

/** A position the binding read, checked once more before the manager counts on it. */
export function parseBrokerPosition(p: BrokerPosition): VenuePosition {
  const bad = (reason: string) => new InvalidVenuePosition(`${p.ticker}: ${reason}`, p);
  if (p.ticker === '' || !p.ticker.isWellFormed()) throw bad('ticker is empty or not well-formed UTF-16');
  if (!Number.isSafeInteger(p.qty)) throw bad(`quantity ${p.qty} is not an integer`);
  if (!Number.isFinite(p.averagePrice) || p.averagePrice < 0 || (p.qty !== 0 && p.averagePrice === 0))
    throw bad(`average price ${p.averagePrice} is not a price`);
  return { ticker: p.ticker, qty: p.qty, averagePrice: p.qty === 0 ? 0 : p.averagePrice };
}

const SIDES: Record<number, 'buy' | 'sell'> = { 1: 'buy', 2: 'sell' };

/** Tape's order types as the binding names ProfitDLL's OrderType. */
const DLL_TYPES: Readonly<Record<OrderType, keyof typeof DllOrderType>> = {
  limit: 'limit',
  market: 'market',
  stop_limit: 'stopLimit',
};

/**
 * ProfitDLL's OrderStatus (API.md) as a report status. Done for day (3), stopped (7),
 * suspended (9), calculated (11), accepted for bidding (13) and the internal codes (≥ 200) are
 * not part of a B3 day order's life as Tape sends it: unknown, kept, never guessed at.
 */
const DLL_STATUS: Readonly<Record<number, ReportStatus>> = {
  10: 'submitted', // pending new
  16: 'submitted', // received
  0: 'accepted', // new
  1: 'partially_filled',
  2: 'filled',
  4: 'canceled',
  15: 'canceled', // partially filled, then canceled
  5: 'replaced',
  6: 'pending_cancel',
  14: 'pending_replace',
  8: 'rejected',
  18: 'rejected', // partially filled, then rejected
  12: 'expired',
  17: 'expired', // partially filled, then expired
};

/** The report status of a ProfitDLL OrderStatus byte. */
export const reportStatus = (dllStatus: number): ReportStatus => DLL_STATUS[dllStatus] ?? 'unknown';

/** A DLL order as an OrderReport, or InvalidDllOrder saying what is wrong. */
export function parseDllOrder(d: DllOrder): OrderReport {
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
  if (!Number.isFinite(d.stopPrice)) throw bad(`stop price ${d.stopPrice} is not finite`);
  if (d.type === DllOrderType.stopLimit && !(d.stopPrice > 0))
    throw bad(`stop-limit order with stop price ${d.stopPrice}`);
  if (d.ticker === '' || !d.ticker.isWellFormed()) throw bad('ticker is empty or not well-formed UTF-16');
  // Ids are compared and stored as they are: one that is not text would match nothing.
  if (!d.accountId.isWellFormed()) throw bad('account id is not well-formed UTF-16');
  if (!d.clOrderId.isWellFormed()) throw bad('client order id is not well-formed UTF-16');
  return {
    localOrderId: d.localOrderId,
    clOrderId: d.clOrderId,
    accountId: d.accountId,
    ticker: d.ticker,
    side,
    status: reportStatus(d.status),
    venueStatus: d.status,
    qty: d.qty,
    filledQty: d.tradedQty,
    avgPrice: d.averagePrice,
    price: d.price > 0 ? d.price : null,
    stopPrice: d.stopPrice > 0 ? d.stopPrice : null,
    // docs/native.md: a triggered stop is reported as a limit order that keeps its stop price.
    stopTriggered: d.type === DllOrderType.limit && d.stopPrice > 0,
    createdAt: d.date,
    text: d.text.toWellFormed(),
  };
}

type Binding = Pick<
  ProfitConnector,
  'sendOrder' | 'cancelOrder' | 'changeOrder' | 'orderDetails' | 'enumerateOrders' | 'positions'
>;

/** A call the DLL may refuse: its ProfitDllError becomes the venue's refusal. */
function refusable<T>(call: () => T): T {
  try {
    return call();
  } catch (err) {
    if (err instanceof ProfitDllError) throw new VenueRefused(err.message, err.codeName);
    throw err;
  }
}

export class ProfitDllAdapter implements OrderVenue {
  constructor(
    private readonly dll: Binding,
    /** The routing password (PROFITDLL_ROUTING_PASSWORD): kept here, never logged. */
    private readonly password: string,
    /** Orders in the DLL's list that fail parseDllOrder: they are reported, not used. */
    private readonly onInvalid: (err: InvalidDllOrder) => void,
  ) {}

  send(o: Parameters<OrderVenue['send']>[0]): bigint {
    return refusable(() =>
      this.dll.sendOrder({
        ...o,
        type: DLL_TYPES[o.type],
        stopPrice: o.type === 'stop_limit' ? o.stopPrice : undefined,
        password: this.password,
      }),
    );
  }

  cancel(account: VenueAccount, localOrderId: bigint): void {
    refusable(() => this.dll.cancelOrder(account, localOrderId, this.password));
  }

  change(account: VenueAccount, localOrderId: bigint, price: number, qty: number, stopPrice?: number): void {
    refusable(() => this.dll.changeOrder(account, localOrderId, price, qty, this.password, stopPrice));
  }

  details(localOrderId: bigint): OrderReport {
    return parseDllOrder(this.dll.orderDetails(localOrderId));
  }

  /**
   * The account's positions at the broker. Values the binding refused (NL_INTERNAL_ERROR, the
   * field named) or that fail parseBrokerPosition are InvalidVenuePosition; the DLL's other
   * refusals (no routing login, unknown account) VenueRefused.
   */
  positions(account: VenueAccount): VenuePosition[] {
    let listed: BrokerPosition[];
    try {
      listed = this.dll.positions(account);
    } catch (err) {
      if (err instanceof ProfitDllError && err.code === NL.INTERNAL_ERROR)
        throw new InvalidVenuePosition(err.message, { account: account.accountId });
      if (err instanceof ProfitDllError) throw new VenueRefused(err.message, err.codeName);
      throw err;
    }
    return listed.map(parseBrokerPosition);
  }

  enumerate(account: VenueAccount): OrderReport[] {
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
