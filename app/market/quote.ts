import type { Quote } from '../../sync-server/shared/market.ts';

// The figures of a quote a B3 board shows that are worked out, not received.

/**
 * The day's change in %, as B3 quotes it: against the previous session's close. Before the
 * previous close is known (a ticker's first day on this server, a DLL without one) it is
 * measured against the day's open, and says so (`basis`).
 */
export function dayChange(q: Pick<Quote, 'last' | 'open' | 'previousClose'>): {
  pct: number | null;
  basis: 'previousClose' | 'open';
} {
  const basis = q.previousClose ? 'previousClose' : 'open';
  const ref = q.previousClose || q.open;
  return { pct: ref > 0 ? ((q.last - ref) / ref) * 100 : null, basis };
}

/** Reais traded today: the quote's Σ price × quantity times the contract's multiplier. */
export const financialVolume = (q: Pick<Quote, 'turnover'>, multiplier: number): number | null =>
  q.turnover === undefined ? null : q.turnover * multiplier;
