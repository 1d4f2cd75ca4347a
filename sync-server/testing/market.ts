import { createLogger } from '../log.ts';
import { MarketService, type MarketServiceDeps } from '../market/service.ts';
import type { TapeServer } from '../server.ts';
import type { Trade } from '../shared/market.ts';
import { until } from './until.ts';

// Market fixtures for tests and benches: a trade, a market service of PETR4 alone, the time as
// ProfitDLL prints it, a last trade the simulator reports to a running server.

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

/**
 * A market of PETR4 alone with nothing behind it (no database, no store, nothing published):
 * for tests and benches of the market's own logic; `deps` replaces what the case needs.
 */
export function petr4Market(deps: Partial<MarketServiceDeps> = {}): MarketService {
  return new MarketService({
    tickers: [{ ticker: 'PETR4', exchange: 'B' }],
    ringCapacity: 10_000,
    maxReplay: 100_000,
    history: { range: async () => [] },
    head: () => 0,
    store: () => {},
    deadLetter: () => {},
    publish: () => true,
    status: () => ({ login: 0, routing: null, marketData: 4, activation: 0, connected: true }),
    log: createLogger('silent'),
    ...deps,
  });
}

/** Now as ProfitDLL prints it: DD/MM/YYYY HH:MM:SS.ZZZ in B3 time (UTC−3). */
export function b3Now(): string {
  const d = new Date(Date.now() - 3 * 3_600_000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCDate())}/${p(d.getUTCMonth() + 1)}/${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}`;
}

/**
 * A PETR4 trade at `price` through the server's simulator, once the market has it as the last
 * trade: what risk checks a limit price against (the price band).
 */
export async function lastTradeAt(server: TapeServer, price: number, tradeNumber = 1): Promise<void> {
  const sim = server.connector.sim;
  if (!sim) throw new Error('the simulator library is required here');
  sim.injectTrade({ ticker: 'PETR4', exchange: 'B', date: b3Now(), price, qty: 100, tradeNumber });
  await until(() => server.market.quote('PETR4')?.last === price, `the last PETR4 trade at ${price}`);
}
