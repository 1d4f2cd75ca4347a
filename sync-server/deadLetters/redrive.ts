import type { Instrument } from '../shared/instruments.ts';
import type { Trade } from '../shared/market.ts';
import type { DeadLetterStorage } from './queue.ts';

/** What a redriven letter's payload goes through again, by its source. */
export interface RedriveTargets {
  /** `profitdll.trade`: the stored callback, validated again (TradeCapture.capture). */
  readonly capture: (
    payload: unknown,
  ) =>
    | { readonly ok: true; readonly instrument: Instrument; readonly trade: Trade }
    | { readonly ok: false; readonly reason: string; readonly detail: string };
  /** A trade that passed goes on into the market (MarketService.trades). */
  readonly trades: (instrument: Instrument, trades: Trade[]) => void;
  /** `store.ticks`: a batch the database refused or did not take, written again (TickStore.insert). */
  readonly insert: (trades: readonly Trade[]) => Promise<void>;
}

export type RedriveResult =
  | { readonly outcome: 'redriven' }
  /** It failed again: the letter counts the attempt and keeps this detail. */
  | { readonly outcome: 'refused'; readonly reason: string; readonly detail: string }
  | { readonly outcome: 'not_found' }
  | { readonly outcome: 'already_resolved'; readonly resolution: string | null }
  | { readonly outcome: 'not_redrivable'; readonly source: string };

/**
 * Feeds a dead letter back where it failed: a trade callback through validation and into the
 * market, a batch of trades into the table. Resolved on success; otherwise one attempt more,
 * with the new reason.
 */
export async function redrive(
  id: number,
  letters: DeadLetterStorage,
  to: RedriveTargets,
): Promise<RedriveResult> {
  const letter = Number.isSafeInteger(id) ? await letters.get(id) : undefined;
  if (!letter) return { outcome: 'not_found' };
  if (letter.resolvedAt) return { outcome: 'already_resolved', resolution: letter.resolution };
  if (letter.source === 'profitdll.trade') {
    const r = to.capture(letter.payload);
    if (!r.ok) {
      await letters.retried(id, r.detail);
      return { outcome: 'refused', reason: r.reason, detail: r.detail };
    }
    to.trades(r.instrument, [r.trade]);
  } else if (letter.source === 'store.ticks') {
    const trades = (letter.payload as { trades?: Trade[] }).trades ?? [];
    try {
      await to.insert(trades);
    } catch (err) {
      await letters.retried(id, (err as Error).message);
      return { outcome: 'refused', reason: 'write_failed', detail: (err as Error).message };
    }
  } else {
    return { outcome: 'not_redrivable', source: letter.source };
  }
  await letters.resolve(id, 'redriven');
  return { outcome: 'redriven' };
}
