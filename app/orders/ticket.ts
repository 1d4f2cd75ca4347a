import { isValidPrice, toTicks } from '../../sync-server/shared/instruments.ts';
import type { InstrumentInfo } from '../../sync-server/shared/market.ts';
import { price as fmt } from '../format.ts';
import { msg, t } from '../i18n/i18n.ts';

// The ticket's checks: the same lot and tick rules the server's risk engine applies, so a
// trader sees the problem before sending. The server stays the judge.

export interface TicketDraft {
  readonly ticker: string;
  readonly side: 'buy' | 'sell';
  readonly type: 'limit' | 'market';
  readonly qty: number;
  readonly price: number | undefined;
}

export type TicketProblems = Partial<Record<'ticker' | 'qty' | 'price', string>>;

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
  if (d.type === 'limit') {
    if (d.price === undefined || !Number.isFinite(d.price) || d.price <= 0)
      problems.price = t('check.limitPrice');
    else if (!isValidPrice(d.price, inst.tickSize))
      problems.price = t('check.tick', { tick: fmt(inst.tickSize, inst.priceDecimals) });
    else if (
      limits.minLimit !== undefined &&
      limits.maxLimit !== undefined &&
      (d.price < limits.minLimit || d.price > limits.maxLimit)
    )
      problems.price = t('check.limits', {
        min: fmt(limits.minLimit, inst.priceDecimals),
        max: fmt(limits.maxLimit, inst.priceDecimals),
      });
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
