import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sampleTrade } from '../testing/market.ts';
import { barStart, foldTrades, mergeCandles, TIMEFRAME_NAMES, TIMEFRAMES } from './candles.ts';
import { b3Day, type Candle, type Trade } from './market.ts';

const DAY0 = Date.UTC(2026, 11, 1, 3, 0, 0); // Brasília midnight, 1 Dec 2026

/** Trades in time and seq order over two B3 days, with gaps that cross bars of every width. */
const tradesArb = fc
  .array(
    fc.record({
      gap: fc.integer({ min: 0, max: 3_600_000 }),
      price: fc.integer({ min: 3000, max: 4000 }),
      qty: fc.integer({ min: 1, max: 50 }),
    }),
    { maxLength: 120 },
  )
  .map((rows) => {
    let time = DAY0 + 9 * 3_600_000;
    return rows.map((r, i): Trade => {
      time += r.gap;
      return sampleTrade(i + 1, { time, price: r.price / 100, qty: r.qty * 100 });
    });
  });

/** The bars of `trades` by brute force: group by bar start, first and last by seq. */
function grouped(trades: readonly Trade[], seconds: number): Candle[] {
  const groups = new Map<number, Trade[]>();
  for (const t of trades) {
    const k = barStart(t.time, seconds);
    groups.set(k, [...(groups.get(k) ?? []), t]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a - b)
    .map(([time, ts]) => ({
      time,
      open: (ts[0] as Trade).price,
      high: Math.max(...ts.map((t) => t.price)),
      low: Math.min(...ts.map((t) => t.price)),
      close: (ts.at(-1) as Trade).price,
      volume: ts.reduce((n, t) => n + t.qty, 0),
      trades: ts.length,
    }));
}

describe('candles', () => {
  it('starts bars on Brasília time: a 1D bar is a B3 session day, 60m bars start on the hour', () => {
    expect(barStart(DAY0 + 5 * 3_600_000 + 123, TIMEFRAMES['1D'])).toBe(DAY0);
    expect(barStart(DAY0 - 1, TIMEFRAMES['1D'])).toBe(DAY0 - 86_400_000);
    expect(barStart(DAY0 + 7 * 3_600_000 + 59 * 60_000, TIMEFRAMES['60m'])).toBe(DAY0 + 7 * 3_600_000);
    expect(barStart(DAY0 + 7 * 60_000 + 59_999, TIMEFRAMES['5m'])).toBe(DAY0 + 5 * 60_000);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4e12 }), fc.constantFrom(...TIMEFRAME_NAMES), (t, tf) => {
        const s = barStart(t, TIMEFRAMES[tf]);
        expect(s).toBeLessThanOrEqual(t);
        expect(t - s).toBeLessThan(TIMEFRAMES[tf] * 1000);
        expect(b3Day(s)).toBe(b3Day(t)); // no bar straddles two B3 days
      }),
    );
  });

  it('folds trades into the bars grouping them gives, however the trades are split', () => {
    fc.assert(
      fc.property(tradesArb, fc.constantFrom(...TIMEFRAME_NAMES), fc.nat(), (ts, tf, cut) => {
        const seconds = TIMEFRAMES[tf];
        const at = ts.length === 0 ? 0 : cut % (ts.length + 1);
        const whole = foldTrades([], ts, seconds);
        expect(whole).toEqual(grouped(ts, seconds));
        expect(foldTrades(foldTrades([], ts.slice(0, at), seconds), ts.slice(at), seconds)).toEqual(whole);
      }),
    );
  });

  it('puts a trade behind the last bar into its own bar, not the last', () => {
    const bars = foldTrades([], [sampleTrade(1, { time: DAY0, price: 10 })], 60);
    const late = foldTrades(
      foldTrades(bars, [sampleTrade(2, { time: DAY0 + 120_000, price: 12 })], 60),
      [sampleTrade(3, { time: DAY0 + 1_000, price: 11 })],
      60,
    );
    expect(late.map((b) => [b.time, b.open, b.high, b.close, b.trades])).toEqual([
      [DAY0, 10, 11, 10, 2],
      [DAY0 + 120_000, 12, 12, 12, 1],
    ]);
  });

  it('merges two parts of a bar as one: open of the first, close of the second', () => {
    const a = { time: 0, open: 5, high: 7, low: 4, close: 6, volume: 10, trades: 2 };
    const b = { time: 60_000, open: 6, high: 9, low: 5, close: 8, volume: 5, trades: 1 };
    expect(mergeCandles(a, b)).toEqual({
      time: 0,
      open: 5,
      high: 9,
      low: 4,
      close: 8,
      volume: 15,
      trades: 3,
    });
  });
});
