import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sampleTrade } from '../testing/market.ts';
import { emptyFlow, foldFlow, netOf } from './flow.ts';
import { b3Day, type Trade } from './market.ts';

// The broker flow's fold: every trade once, its quantity bought by one broker and sold by one.

const NOON = Date.UTC(2026, 11, 3, 15, 0, 0); // 12:00 in Brasília
const DAY = b3Day(NOON);

const trades = fc
  .array(
    fc.record({
      qty: fc.integer({ min: 1, max: 10_000 }),
      buyAgent: fc.constantFrom(3, 8, 85, 114, 308),
      sellAgent: fc.constantFrom(3, 8, 85, 114, 308),
    }),
    { maxLength: 200 },
  )
  .map((xs) => xs.map((x, i): Trade => sampleTrade(i + 1, { ...x, time: NOON + i })));

describe('foldFlow', () => {
  it('property: bought and sold each sum to the traded quantity, and nets to zero', () => {
    fc.assert(
      fc.property(trades, (ts) => {
        const flow = foldFlow(emptyFlow('PETR4', DAY), ts);
        const qty = ts.reduce((n, t) => n + t.qty, 0);
        expect(flow.brokers.reduce((n, r) => n + r.bought, 0)).toBe(qty);
        expect(flow.brokers.reduce((n, r) => n + r.sold, 0)).toBe(qty);
        expect(flow.brokers.reduce((n, r) => n + netOf(r), 0)).toBe(0);
        expect(flow.throughSeq).toBe(ts.length);
      }),
    );
  });

  it('property: folded in any split, with repeats of what it already counted, it counts each trade once', () => {
    fc.assert(
      fc.property(trades, fc.array(fc.nat(), { maxLength: 10 }), (ts, cuts) => {
        const whole = foldFlow(emptyFlow('PETR4', DAY), ts);
        let flow = emptyFlow('PETR4', DAY);
        let at = 0;
        for (const c of cuts.map((c) => (ts.length ? c % (ts.length + 1) : 0)).sort((a, b) => a - b)) {
          // Each piece starts a little before where the last one ended: a replay overlapping it.
          flow = foldFlow(flow, ts.slice(Math.max(0, at - 3), c));
          at = Math.max(at, c);
        }
        flow = foldFlow(flow, ts.slice(Math.max(0, at - 3)));
        expect(flow).toEqual(whole);
      }),
    );
  });

  it('counts a trade once for a broker on both sides, skips other tickers, restarts on a new day', () => {
    const own = foldFlow(emptyFlow('PETR4', DAY), [
      sampleTrade(1, { time: NOON, buyAgent: 3, sellAgent: 3, qty: 200 }),
    ]);
    expect(own.brokers).toEqual([{ agent: 3, bought: 200, sold: 200, trades: 1 }]);
    const other = foldFlow(own, [sampleTrade(2, { ticker: 'VALE3', time: NOON })]);
    expect(other).toBe(own);
    const next = foldFlow(own, [
      sampleTrade(2, { time: NOON + 86_400_000, buyAgent: 8, sellAgent: 85, qty: 100 }),
    ]);
    expect(next.day).toBe(DAY + 1);
    expect(next.brokers).toEqual([
      { agent: 8, bought: 100, sold: 0, trades: 1 },
      { agent: 85, bought: 0, sold: 100, trades: 1 },
    ]);
  });
});
