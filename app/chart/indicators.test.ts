import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { b3Day, type Candle } from '../../sync-server/shared/market.ts';
import { Studies, sma, typical, vwap } from './indicators.ts';

const DAY0 = Date.UTC(2026, 11, 1, 13, 0, 0); // 10:00 in Brasília

/** Bars in time order, a minute or more apart, some across B3 days; each a sane OHLC. */
const barsArb = fc
  .array(
    fc.record({
      step: fc.oneof(fc.integer({ min: 1, max: 30 }), fc.constant(24 * 60)),
      open: fc.integer({ min: 3000, max: 4000 }),
      close: fc.integer({ min: 3000, max: 4000 }),
      up: fc.integer({ min: 0, max: 50 }),
      down: fc.integer({ min: 0, max: 50 }),
      volume: fc.integer({ min: 1, max: 1_000 }),
    }),
    { maxLength: 80 },
  )
  .map((rows) => {
    let time = DAY0;
    return rows.map((r): Candle => {
      time += r.step * 60_000;
      const open = r.open / 100;
      const close = r.close / 100;
      return {
        time,
        open,
        close,
        high: Math.max(open, close) + r.up / 100,
        low: Math.min(open, close) - r.down / 100,
        volume: r.volume * 100,
        trades: r.volume,
      };
    });
  });

describe('indicators', () => {
  it('averages the last `period` closes, and a constant series to the constant', () => {
    expect(sma([1, 2, 3, 4, 5], 3)).toEqual([undefined, undefined, 2, 3, 4]);
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 200_000, noNaN: true }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 90 }),
        (c, period, n) => {
          const out = sma(Array(n).fill(c), period);
          out.forEach((v, i) => {
            if (i + 1 < period) expect(v).toBeUndefined();
            else expect(v).toBeCloseTo(c, 6);
          });
        },
      ),
    );
  });

  it("keeps the VWAP within its day's range, starting again with each B3 day", () => {
    fc.assert(
      fc.property(barsArb, (bars) => {
        const w = vwap(bars);
        bars.forEach((b, i) => {
          const day = bars.filter((x, j) => j <= i && b3Day(x.time) === b3Day(b.time));
          expect(w[i]).toBeGreaterThanOrEqual(Math.min(...day.map((x) => x.low)) - 1e-9);
          expect(w[i]).toBeLessThanOrEqual(Math.max(...day.map((x) => x.high)) + 1e-9);
          if (day.length === 1) expect(w[i]).toBeCloseTo(typical(b), 9); // the day's first bar
        });
      }),
    );
  });

  it('updates the forming bar to exactly what computing everything again gives', () => {
    fc.assert(
      fc.property(
        barsArb,
        fc.nat(),
        fc.integer({ min: 1, max: 25 }),
        fc.integer({ min: 1, max: 25 }),
        (bars, cut, p1, p2) => {
          const at = bars.length === 0 ? 0 : cut % (bars.length + 1);
          const live = new Studies([p1, p2]);
          live.set(bars.slice(0, at));
          for (const b of bars.slice(at)) {
            // The forming bar as trades come: a first print, then taller, then as it closed.
            const first = { ...b, high: b.open, low: b.open, close: b.open, volume: 100, trades: 1 };
            live.fold(first);
            live.fold({ ...b, volume: Math.max(100, b.volume - 100) });
            live.fold(b);
          }
          const whole = new Studies([p1, p2]);
          whole.set(bars);
          expect(live.length).toBe(bars.length);
          bars.forEach((_, i) => {
            expect(live.at(i)).toEqual(whole.at(i));
            expect(live.bar(i)).toEqual(whole.bar(i));
          });
        },
      ),
    );
  });

  it('refuses a bar before the forming one: the chart only moves on', () => {
    const s = new Studies([2]);
    const bar = (time: number, close: number): Candle => ({
      time,
      open: close,
      high: close,
      low: close,
      close,
      volume: 100,
      trades: 1,
    });
    s.set([bar(DAY0, 10), bar(DAY0 + 60_000, 12)]);
    expect(s.fold(bar(DAY0, 99))).toBeUndefined();
    expect(s.at(1)?.ma).toEqual([11]);
    expect(s.fold(bar(DAY0 + 120_000, 14))?.ma).toEqual([13]);
  });
});
