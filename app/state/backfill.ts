import { create } from 'zustand';
import type { BackfillStatus } from '../../sync-server/shared/market.ts';

// Where each ticker's history backfill stands, as the /ws `backfill` messages tell it: filling
// (its percent), then live, or failed (the server reported a range it could not get).
// BackfillProgress shows a bar per ticker while it fills, and "live" for a moment after.

/** How long a ticker seen filling shows "live" at 100 % before its bar goes. */
export const LIVE_SHOWN_MS = 4_000;

export interface BackfillView extends BackfillStatus {
  /** When this device saw it go from filling to live or failed; undefined if never seen filling. */
  readonly endedAt?: number;
}

/** The next view of a ticker from its last one and a status the server sent. */
export function applyBackfill(prev: BackfillView | undefined, s: BackfillStatus, now: number): BackfillView {
  const view: BackfillView = {
    ticker: s.ticker,
    state: s.state,
    percent: Math.max(0, Math.min(100, s.percent)),
    trades: s.trades,
    from: s.from,
    to: s.to,
    ...(s.reason ? { reason: s.reason } : {}),
  };
  if (s.state === 'filling') return view;
  const endedAt = prev?.state === 'filling' ? now : prev?.endedAt;
  return endedAt === undefined ? view : { ...view, endedAt };
}

/** Whether a ticker's bar is in view: while it fills or failed, and a moment after it went live. */
export const shown = (v: BackfillView, now: number) =>
  v.state !== 'live' || (v.endedAt !== undefined && now - v.endedAt < LIVE_SHOWN_MS);

interface BackfillState {
  byTicker: Readonly<Record<string, BackfillView>>;
  apply(status: BackfillStatus): void;
}

export const useBackfill = create<BackfillState>((set) => ({
  byTicker: {},
  apply: (status) =>
    set((s) => ({
      byTicker: {
        ...s.byTicker,
        [status.ticker]: applyBackfill(s.byTicker[status.ticker], status, Date.now()),
      },
    })),
}));
