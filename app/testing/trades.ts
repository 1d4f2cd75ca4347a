import type { Trade } from '../../sync-server/shared/market.ts';

// Tests only: a PETR4 trade numbered `seq` (time, trade number and capture time from it), XP
// buying from BTG on a buy aggression, with any field changed.

export const T0 = Date.UTC(2026, 11, 2, 13, 0); // 10:00 in Brasília

export const tradeAt = (seq: number, fields: Partial<Trade> = {}): Trade => ({
  ticker: 'PETR4',
  seq,
  time: T0 + seq,
  price: 38.5,
  qty: 100,
  tradeNumber: seq,
  buyAgent: 3,
  sellAgent: 85,
  tradeType: 2,
  flags: 0,
  capturedAt: T0 + seq,
  ...fields,
});

/** Trades `from`..`to`, oldest first. */
export const tradesFrom = (from: number, to: number): Trade[] =>
  Array.from({ length: to - from + 1 }, (_, i) => tradeAt(from + i));
