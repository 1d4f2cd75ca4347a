import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProfitDllError } from './errors.ts';
import type { ProfitConnector } from './profitdll.ts';
import { connectSimulator } from './testkit.ts';

// GetLastDailyClose through the real binding: the previous session's close B3 measures the
// day's change against. The simulator's day opens at its reference price, so that is its close.

let connector: ProfitConnector;
beforeAll(async () => {
  ({ connector } = await connectSimulator({}));
});
afterAll(() => connector?.finalize());

describe('lastDailyClose', () => {
  it('reads the previous close of a stock and of a future, on the tick grid', () => {
    expect(connector.lastDailyClose('PETR4', 'B')).toBe(38.5);
    expect(connector.lastDailyClose('WINZ25', 'F')).toBe(128_000);
    expect(connector.lastDailyClose('WDOZ25', 'F', true)).toBe(5_400);
  });

  it('follows a listing the simulator re-prices, snapped to its tick', () => {
    const sim = connector.sim;
    if (!sim) throw new Error('not the simulator');
    sim.addTicker('TEST3', 'B', 0.05, 100, 12.34);
    expect(connector.lastDailyClose('TEST3', 'B')).toBe(12.35);
  });

  it('names the error for a ticker the DLL does not know, never a number', () => {
    expect(() => connector.lastDailyClose('NOPE9', 'B')).toThrow(ProfitDllError);
    expect(() => connector.lastDailyClose('NOPE9', 'B')).toThrow(/GetLastDailyClose\(NOPE9, B\)/);
    expect(() => connector.lastDailyClose('PETR4', 'Q')).toThrow(ProfitDllError);
    expect(() => connector.lastDailyClose('', 'B')).toThrow(ProfitDllError);
  });
});
