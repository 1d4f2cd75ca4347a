import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  barStart,
  foldTrades,
  MAX_CANDLES,
  TIMEFRAME_NAMES,
  TIMEFRAMES,
} from '../../sync-server/shared/candles.ts';
import type { Candle, Trade } from '../../sync-server/shared/market.ts';
import { T0, tradeAt } from '../testing/trades.ts';
import { candlesUrl, chartTime, fromChartTime, historyWindow, LiveFold } from './bars.ts';

const OPEN = T0;
const trade = (seq: number, time: number, price: number): Trade =>
  tradeAt(seq, { time, price, capturedAt: time });

/** A session's trades: seconds apart, some minutes and hours skipped. */
const sessionArb = fc
  .array(
    fc.record({
      gap: fc.oneof(fc.integer({ min: 0, max: 40_000 }), fc.constant(3_700_000)),
      tick: fc.integer({ min: -2, max: 2 }),
    }),
    { minLength: 1, maxLength: 60 },
  )
  .map((rows) => {
    let time = OPEN;
    let price = 3850;
    return rows.map((r, i) => {
      time += r.gap;
      price += r.tick;
      return trade(i + 1, time, price / 100);
    });
  });

describe('the chart bars', () => {
  it('asks one window per timeframe from Brasília midnight, within the route bar limit', () => {
    const now = Date.UTC(2026, 11, 3, 17, 25, 0); // 14:25 in Brasília
    const today = Date.UTC(2026, 11, 3, 3, 0, 0);
    expect(historyWindow('1m', now)).toEqual({ from: today, to: today + 2 * 86_400_000 });
    expect(historyWindow('1D', now).from).toBe(today - 399 * 86_400_000);
    for (const tf of TIMEFRAME_NAMES) {
      const { from, to } = historyWindow(tf, now);
      expect(to).toBeGreaterThan(now);
      expect((to - from) / 1000 / TIMEFRAMES[tf]).toBeLessThanOrEqual(MAX_CANDLES);
    }
    // 01:00 in Brasília is still that day, though UTC has it the next.
    expect(historyWindow('1m', Date.UTC(2026, 11, 4, 2, 0, 0)).from).toBe(today);
    expect(candlesUrl('WINZ26', '60m', now)).toBe(
      `/api/v1/market/candles?ticker=WINZ26&tf=60m&from=${today - 29 * 86_400_000}&to=${today + 2 * 86_400_000}`,
    );
  });

  it('gives the chart Brasília time as its UTC: 10:00 on B3 reads 10:00 anywhere', () => {
    const t = chartTime(OPEN);
    expect(new Date(t * 1000).getUTCHours()).toBe(10);
    expect(fromChartTime(t)).toBe(OPEN);
  });

  it('folds the live minutes after an answer into the bars the whole session makes (property)', () => {
    fc.assert(
      fc.property(
        sessionArb,
        fc.nat(),
        fc.constantFrom(...TIMEFRAME_NAMES),
        fc.array(fc.boolean(), { maxLength: 60 }),
        (trades, cut, tf, skips) => {
          const seconds = TIMEFRAMES[tf];
          const minute = (t: Trade) => barStart(t.time, 60);
          // The server answers after `a` trades: its live candle is the minute of trade a, left
          // out of the answer; the channel then sends that minute whole, and each one after.
          const a = 1 + (cut % trades.length);
          const liveMinute = minute(trades[a - 1] as Trade);
          const history = trades.slice(0, a).filter((t) => minute(t) < liveMinute);
          const answer = foldTrades([], history, seconds);
          const fold = new LiveFold(tf, answer.at(-1), liveMinute);
          const bars: Candle[] = answer.slice();
          const show = (b: Candle | undefined) => {
            if (!b) return;
            if (bars.at(-1)?.time === b.time) bars[bars.length - 1] = b;
            else bars.push(b);
          };
          // A candle seen before the answer, older than its live minute, changes nothing.
          const before = trades.slice(0, a).filter((t) => minute(t) < liveMinute);
          if (before.length > 0)
            expect(fold.apply(foldTrades([], before, 60).at(-1) as Candle)).toBeUndefined();
          for (let i = a; i <= trades.length; i++) {
            const now = trades[i - 1] as Trade;
            const next = trades[i];
            // The channel's candle after trade i: its minute so far. An update may be missed,
            // but never the last of a minute (the server sends a minute's final form).
            const last = !next || minute(next) !== minute(now);
            if (!last && skips[i % Math.max(1, skips.length)]) continue;
            const sofar = trades.slice(0, i).filter((t) => minute(t) === minute(now));
            show(fold.apply(foldTrades([], sofar, 60)[0] as Candle));
          }
          expect(bars).toEqual(foldTrades([], trades, seconds));
        },
      ),
    );
  });

  it('takes a minute again as it grows, and refuses one that went by', () => {
    const c = (time: number, close: number, volume: number): Candle => ({
      time,
      open: 10,
      high: Math.max(10, close),
      low: Math.min(10, close),
      close,
      volume,
      trades: volume / 100,
    });
    const fold = new LiveFold('5m', c(OPEN, 11, 300), OPEN + 60_000);
    expect(fold.apply(c(OPEN + 60_000, 12, 100))).toMatchObject({ time: OPEN, close: 12, volume: 400 });
    expect(fold.apply(c(OPEN + 60_000, 9, 200))).toMatchObject({ time: OPEN, close: 9, low: 9, volume: 500 });
    expect(fold.apply(c(OPEN + 120_000, 13, 100))).toMatchObject({ time: OPEN, close: 13, volume: 600 });
    expect(fold.apply(c(OPEN + 60_000, 20, 900))).toBeUndefined();
    expect(fold.apply(c(OPEN + 300_000, 14, 100))).toMatchObject({
      time: OPEN + 300_000,
      open: 10,
      volume: 100,
    });
  });
});
