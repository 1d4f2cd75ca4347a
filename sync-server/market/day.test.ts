import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { useMarket } from '../../app/state/market.ts';
import { type Instrument, instrumentFor } from '../shared/instruments.ts';
import {
  applyTrades,
  b3Day,
  type DayStats,
  type Quote,
  type ServerMessage,
  type Trade,
  withDay,
} from '../shared/market.ts';
import { petr4Market, sampleTrade } from '../testing/market.ts';
import { topicFor } from './service.ts';

// The exchange's daily figures: kept with the quote, pushed to subscribers when they say
// something trades cannot (the open, the price limits, a new day), and merged on the app side.

const PETR4 = instrumentFor('PETR4', 'B') as Instrument;
const AT = Date.UTC(2026, 10, 25, 15); // 12:00 in São Paulo
const day: DayStats = {
  time: AT,
  open: 38.1,
  high: 38.9,
  low: 37.95,
  qty: 1_000_000,
  trades: 9_000,
  minLimit: 34.29,
  maxLimit: 41.9,
};

function service() {
  const pushed: ServerMessage[] = [];
  const m = petr4Market({
    publish: (topic, message) => {
      if (topic === topicFor('trades', 'PETR4') && typeof message === 'string')
        pushed.push(JSON.parse(message) as ServerMessage);
      return true;
    },
  });
  return { m, pushed };
}

describe('daily figures on the server', () => {
  it('pushes the figures when the open, the limits or the day change, not when only the range moves', () => {
    const { m, pushed } = service();
    m.day(PETR4, day);
    m.day(PETR4, { ...day, high: 39, qty: 1_100_000 }); // the trades say as much
    m.day(PETR4, { ...day, high: 39, maxLimit: 42.5 }); // a limit moved
    m.day(PETR4, { ...day, time: AT + 86_400_000 }); // the next session
    expect(pushed.map((p) => p.type === 'day' && [p.day.maxLimit, p.day.time])).toEqual([
      [41.9, AT],
      [42.5, AT],
      [41.9, AT + 86_400_000],
    ]);
  });

  it("gives new subscribers the quote completed with the day's figures", () => {
    const { m } = service();
    m.trades(PETR4, [
      sampleTrade(1, { time: AT, price: 38.5 }),
      sampleTrade(2, { time: AT + 1, price: 38.6 }),
    ]);
    m.day(PETR4, day);
    expect(m.quote('PETR4')).toMatchObject({
      open: 38.1,
      high: 38.9,
      low: 37.95,
      last: 38.6,
      volume: 1_000_000,
      minLimit: 34.29,
      maxLimit: 41.9,
    });
  });
});

describe('the session quote across a restart', () => {
  it("starts from the day's stored trades, folds new trades in, and the exchange's figures complete it", () => {
    const { m } = service();
    const stored = applyTrades(undefined, 'B', [
      sampleTrade(1, { time: AT, price: 38.2, qty: 500 }),
      sampleTrade(2, { time: AT + 1, price: 38.7, qty: 300 }),
    ]) as Quote;
    const { exchange: _, ...fromTicks } = stored;
    m.resume([fromTicks, { ...fromTicks, ticker: 'ZZZZ3' }]); // a ticker no longer listed is left out
    expect(m.quote('PETR4')).toEqual(stored);
    expect(m.quote('ZZZZ3')).toBeUndefined();
    m.trades(PETR4, [sampleTrade(3, { time: AT + 2, price: 38.1, qty: 100 })]);
    expect(m.quote('PETR4')).toMatchObject({
      seq: 3,
      volume: 900,
      trades: 3,
      open: 38.2,
      low: 38.1,
      high: 38.7,
    });
    // The exchange counts trades from before the start of this history too.
    m.day(PETR4, day);
    expect(m.quote('PETR4')).toMatchObject({ volume: 1_000_000, trades: 9_000, open: 38.1, low: 37.95 });
    // A quote trades have built is never replaced by a late seed.
    m.resume([fromTicks]);
    expect(m.quote('PETR4')?.seq).toBe(3);
  });
});

describe('daily figures in the app', () => {
  it('applies a pushed day to the quote and keeps it through later trades and a new day', () => {
    const s = useMarket.getState();
    s.snapshot([
      {
        ticker: 'PETR4',
        exchange: 'B',
        seq: 1,
        last: 38.5,
        open: 38.5,
        high: 38.5,
        low: 38.5,
        volume: 100,
        trades: 1,
        time: AT,
      },
    ]);
    s.day('PETR4', day);
    expect(useMarket.getState().quotes.PETR4).toMatchObject({ open: 38.1, minLimit: 34.29, maxLimit: 41.9 });
    s.trades(new Map([['PETR4', [sampleTrade(2, { time: AT + 1000, price: 39.2 })]]]));
    expect(useMarket.getState().quotes.PETR4).toMatchObject({
      last: 39.2,
      high: 39.2,
      open: 38.1,
      maxLimit: 41.9,
    });
    // The next session starts afresh: yesterday's open and limits are not today's.
    s.trades(new Map([['PETR4', [sampleTrade(3, { time: AT + 86_400_000, price: 37 })]]]));
    const next = useMarket.getState().quotes.PETR4;
    expect(next).toMatchObject({ open: 37, high: 37, low: 37 });
    expect(next?.maxLimit).toBeUndefined();
  });
});

describe('quotes and the session day', () => {
  const at = (h: number, m = 0) => Date.UTC(2026, 10, 25, h + 3, m); // B3 local hour
  const t = (seq: number, price: number, time: number) => sampleTrade(seq, { price, time, qty: 100 });

  it('starts a new quote when the session day changes', () => {
    const monday = applyTrades(undefined, 'B', [t(1, 38, at(10)), t(2, 39, at(17))]) as Quote;
    const tuesday = applyTrades(monday, 'B', [t(3, 37.5, at(10) + 86_400_000)]) as Quote;
    expect(tuesday).toMatchObject({ open: 37.5, high: 37.5, low: 37.5, volume: 100, trades: 1, seq: 3 });
    // Monday's last trade is Tuesday's previous close; Tuesday's turnover starts afresh.
    expect(tuesday.previousClose).toBe(39);
    expect(monday.turnover).toBe(38 * 100 + 39 * 100);
    expect(tuesday.turnover).toBe(37.5 * 100);
    // 23:59 and 00:01 in São Paulo are two days, though the same UTC day.
    expect(b3Day(at(23, 59))).not.toBe(b3Day(at(24, 1)));
  });

  it("completes the quote with the exchange's figures for its day, never narrowing it", () => {
    const q = applyTrades(undefined, 'B', [t(1, 38.5, at(14)), t(2, 38.6, at(14, 1))]) as Quote;
    expect(withDay(q, day)).toMatchObject({
      open: 38.1,
      high: 38.9,
      low: 37.95,
      last: 38.6,
      volume: 1_000_000,
      trades: 9_000,
      minLimit: 34.29,
      maxLimit: 41.9,
    });
    // Trades seen since the figures were sent widen the range further.
    expect(withDay(q, { ...day, high: 38.55 }).high).toBe(38.6);
    // Another day's figures are left out; so are limits the exchange does not set.
    expect(withDay(q, { ...day, time: at(14) - 86_400_000 })).toEqual(q);
    expect(withDay(q, { ...day, minLimit: 0, maxLimit: 0 })).not.toHaveProperty('minLimit');
  });
});

describe('applyTrades', () => {
  /** The rule trade by trade, as it was first written: the oracle for the batched fold. */
  const oneByOne = (prev: Quote | undefined, exchange: string, trades: readonly Trade[]) => {
    let q = prev;
    for (const t of trades) {
      const before = q && b3Day(q.time) < b3Day(t.time) ? q : undefined;
      if (q && b3Day(q.time) !== b3Day(t.time)) q = undefined;
      q = q
        ? {
            ...q,
            seq: t.seq,
            last: t.price,
            high: Math.max(q.high, t.price),
            low: Math.min(q.low, t.price),
            volume: q.volume + t.qty,
            trades: q.trades + 1,
            turnover: (q.turnover ?? 0) + t.price * t.qty,
            time: t.time,
            tradeNumber: t.tradeNumber,
          }
        : {
            ticker: t.ticker,
            exchange,
            seq: t.seq,
            last: t.price,
            open: t.price,
            high: t.price,
            low: t.price,
            volume: t.qty,
            trades: 1,
            turnover: t.price * t.qty,
            time: t.time,
            tradeNumber: t.tradeNumber,
            ...(before ? { previousClose: before.last } : {}),
          };
    }
    return q;
  };

  it('property: folding a batch at once equals folding it trade by trade, across session days', () => {
    const trade = fc.record({
      price: fc.integer({ min: 1, max: 10_000 }).map((c) => c / 100),
      qty: fc.integer({ min: 1, max: 1_000 }),
      // Mostly within a day, now and then into the next ones.
      step: fc.oneof(
        { weight: 9, arbitrary: fc.integer({ min: 0, max: 3_600_000 }) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 * 86_400_000 }) },
      ),
    });
    fc.assert(
      fc.property(
        fc.array(fc.array(trade, { maxLength: 20 }), { maxLength: 6 }),
        fc.boolean(),
        (batches, withLimits) => {
          let time = AT;
          let seq = 0;
          let fast: Quote | undefined = withLimits
            ? withDay(oneByOne(undefined, 'B', [sampleTrade(0, { time })]) as Quote, day)
            : undefined;
          let slow = fast;
          for (const b of batches) {
            const trades = b.map((x) => {
              time += x.step;
              return sampleTrade(++seq, { time, price: x.price, qty: x.qty, tradeNumber: seq * 10 });
            });
            fast = applyTrades(fast, 'B', trades);
            slow = oneByOne(slow, 'B', trades);
            expect(fast).toEqual(slow);
          }
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
