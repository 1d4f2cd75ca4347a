import { centavos, type Instrument } from '../shared/instruments.ts';
import type { CostSchedule } from '../shared/orders.ts';

// What a fill costs: brokerage and B3's fees, by the account's cost schedule in effect when it
// filled. Pure; the account book adds each fill's costs to its position as it folds it.

/**
 * An account's schedule before an admin sets one. Configurable defaults, not B3's table: no
 * brokerage (most B3 brokers charge day traders none), 0,0230 % on equities (the day-trade
 * emolumentos 0,005 % + liquidação 0,018 % B3 publishes for its lowest volume tier) and R$ 0,25
 * per futures contract (about the mini index's day-trade fee; the mini dollar's is higher).
 */
export const DEFAULT_COSTS: CostSchedule = Object.freeze({
  brokerage: 'per_order',
  brokerageCents: 0,
  equitiesFeePpm: 230,
  futuresFeeCents: 25,
});

export interface FillCosts {
  readonly brokerageCents: number;
  readonly feesCents: number;
}

/**
 * The one rounding of costs: a fee on the notional (notional centavos × ppm) to whole centavos,
 * half up, once per fill. Every other cost is a whole number of centavos already.
 */
const roundFee = (notionalCents: number, ppm: number) => Math.round((notionalCents * ppm) / 1_000_000);

/**
 * One fill's costs. `firstOfOrder`: no earlier fill of its order was charged, so a per-order
 * brokerage is charged on this one. Futures pay B3 per contract, the cash market a rate on the
 * notional (fractional-market tickers are the cash market).
 */
export function fillCosts(
  fill: { readonly qty: number; readonly price: number },
  firstOfOrder: boolean,
  inst: Pick<Instrument, 'exchange' | 'multiplier'>,
  s: CostSchedule,
): FillCosts {
  const brokerageCents =
    s.brokerage === 'per_unit' ? s.brokerageCents * fill.qty : firstOfOrder ? s.brokerageCents : 0;
  const feesCents =
    inst.exchange === 'F'
      ? s.futuresFeeCents * fill.qty
      : roundFee(centavos(fill.price, fill.qty, inst), s.equitiesFeePpm);
  return { brokerageCents, feesCents };
}

/**
 * Each account's cost schedules over time: a fill is charged by the one in effect when it filled,
 * live and when start-up folds the stored fills again, so a change applies from then on only.
 */
export class CostSchedules {
  private readonly byAccount = new Map<string, { from: number; schedule: CostSchedule }[]>();

  /** A schedule in effect from `from` (ms since the epoch); the stored history, in any order. */
  set(accountId: string, from: number, schedule: CostSchedule): void {
    const list = this.byAccount.get(accountId) ?? [];
    list.push({ from, schedule });
    list.sort((a, b) => a.from - b.from);
    this.byAccount.set(accountId, list);
  }

  /** The schedule in effect at `at` (ms since the epoch): the latest set before it, else the defaults. */
  at(accountId: string, at: number): CostSchedule {
    const list = this.byAccount.get(accountId);
    let found = DEFAULT_COSTS;
    for (const e of list ?? []) {
      if (e.from > at) break;
      found = e.schedule;
    }
    return found;
  }
}
