import { isValidPrice, toTicks } from '../../sync-server/shared/instruments.ts';
import type { InstrumentInfo } from '../../sync-server/shared/market.ts';
import type { OrderType } from '../../sync-server/shared/orders.ts';
import { price as fmt } from '../format.ts';
import { msg, t } from '../i18n/i18n.ts';

// The ticket's checks: the same lot and tick rules the server's risk engine applies, so a
// trader sees the problem before sending. The server stays the judge.

export interface TicketDraft {
  readonly ticker: string;
  readonly side: 'buy' | 'sell';
  readonly type: OrderType;
  readonly qty: number;
  readonly price: number | undefined;
  /** A stop-limit's stop price (it triggers on the first trade at it or through it). */
  readonly stopPrice?: number | undefined;
}

export type TicketProblems = Partial<Record<'ticker' | 'qty' | 'price' | 'stopPrice', string>>;

/** The exchange's price limits for the day, from the quote, when it sets them. */
export interface DayLimits {
  readonly minLimit?: number | undefined;
  readonly maxLimit?: number | undefined;
}

export function checkTicket(
  d: TicketDraft,
  inst: InstrumentInfo | undefined,
  limits: DayLimits = {},
): TicketProblems {
  if (!inst) return { ticker: t('check.notOnFeed', { ticker: d.ticker || msg('check.thisTicker') }) };
  const problems: TicketProblems = {};
  if (!Number.isSafeInteger(d.qty) || d.qty <= 0) problems.qty = t('check.wholeQty');
  else if (d.qty % inst.lotSize !== 0) problems.qty = t('check.lot', { lot: inst.lotSize });
  const outside = (p: number) =>
    limits.minLimit !== undefined &&
    limits.maxLimit !== undefined &&
    (p < limits.minLimit || p > limits.maxLimit);
  const limitsText = () =>
    t('check.limits', {
      min: fmt(limits.minLimit as number, inst.priceDecimals),
      max: fmt(limits.maxLimit as number, inst.priceDecimals),
    });
  const tick = fmt(inst.tickSize, inst.priceDecimals);
  if (d.type !== 'market') {
    if (d.price === undefined || !Number.isFinite(d.price) || d.price <= 0)
      problems.price = t('check.limitPrice');
    else if (!isValidPrice(d.price, inst.tickSize)) problems.price = t('check.tick', { tick });
    else if (outside(d.price)) problems.price = limitsText();
  }
  if (d.type === 'stop_limit') {
    const stop = d.stopPrice;
    if (stop === undefined || !Number.isFinite(stop) || stop <= 0) problems.stopPrice = t('check.stopPrice');
    else if (!isValidPrice(stop, inst.tickSize)) problems.stopPrice = t('check.stopTick', { tick });
    else if (outside(stop)) problems.stopPrice = limitsText();
    // B3's convention, as the server checks it: the limit caps what a triggered stop pays or takes.
    else if (!problems.price && d.side === 'buy' && (d.price as number) < stop)
      problems.price = t('check.stopBuyLimit');
    else if (!problems.price && d.side === 'sell' && (d.price as number) > stop)
      problems.price = t('check.stopSellLimit');
  }
  return problems;
}

/** The price `steps` ticks away, snapped to the grid first (arrow keys on the price field). */
export function stepPrice(price: number, inst: InstrumentInfo, steps: number): number {
  const ticks = Math.max(1, toTicks(price, inst.tickSize) + steps);
  return Number((ticks * inst.tickSize).toFixed(inst.priceDecimals));
}

/** The quantity `steps` lots away, never below one lot. */
export function stepQty(qty: number, inst: InstrumentInfo, steps: number): number {
  const lots = Math.max(1, Math.round(qty / inst.lotSize) + steps);
  return lots * inst.lotSize;
}

/** A new client order id: the idempotency key of this one order, kept across retries and the outbox. */
export const newClientOrderId = () => `T${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 13)}`;

/** The order as the confirm step restates it: "Comprar 100 PETR4 · limitada a 38,50". */
export function ticketSummary(d: TicketDraft, digits: number | undefined) {
  const order = msg(d.side === 'buy' ? 'order.buy' : 'order.sell', { qty: d.qty, ticker: d.ticker });
  if (d.type === 'market') return msg('ticket.summary.market', { order });
  if (d.type === 'stop_limit')
    return msg('ticket.summary.stop', {
      order,
      stop: fmt(d.stopPrice ?? null, digits),
      price: fmt(d.price ?? null, digits),
    });
  return msg('ticket.summary.limit', { order, price: fmt(d.price ?? null, digits) });
}
