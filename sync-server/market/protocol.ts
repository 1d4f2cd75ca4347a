import type { Channel, Trade } from '../shared/market.ts';

// The server's side of the /ws protocol: the uWS topic each channel's events are published on,
// and a sample trade for tests and benchmarks. The wire itself, which the app imports too, is
// shared/market.ts.

export const topicFor = (channel: Channel, ticker: string) => `md/${channel}/${ticker}`;

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
