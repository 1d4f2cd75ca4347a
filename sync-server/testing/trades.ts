import type { Trade } from '../shared/market.ts';

/** A valid PETR4 trade with the given sequence, for tests and benchmarks; `patch` overrides fields. */
export const sampleTrade = (seq: number, patch: Partial<Trade> = {}): Trade => ({
  ticker: 'PETR4',
  seq,
  time: seq,
  price: 38.5,
  qty: 100,
  tradeNumber: seq,
  buyAgent: 1,
  sellAgent: 2,
  tradeType: 1,
  flags: 0,
  capturedAt: seq,
  ...patch,
});
