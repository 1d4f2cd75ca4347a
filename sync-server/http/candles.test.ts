import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MarketFeed } from '../market/feed.ts';
import type { MarketService } from '../market/service.ts';
import { type CandlesJson, foldTrades, mergeCandles, TIMEFRAMES } from '../shared/candles.ts';
import { instrumentFor } from '../shared/instruments.ts';
import type { Candle, Trade } from '../shared/market.ts';
import type { Database } from '../store/db.ts';
import { testBackends } from '../store/testing.ts';
import { TickStore } from '../store/ticks.ts';
import { petr4Market, sampleTrade } from '../testing/market.ts';
import { marketRoutes } from './routes/market.ts';
import { HttpError, type Route } from './types.ts';

// GET /api/v1/market/candles over a real TickStore and a real MarketService: its refusals, and an
// answer that with the live candles channel after it counts every trade once.

const PETR4 = instrumentFor('PETR4', 'B');
const T0 = Date.UTC(2026, 11, 2, 13, 0, 0); // 10:00 in Brasília

describe.each(testBackends())('the candles route on $name', (backend) => {
  let db: Database;
  let ticks: TickStore;
  beforeAll(async () => {
    db = await backend.open();
    ticks = new TickStore(db);
  });
  afterAll(() => db?.close());

  const routeOf = (market: MarketService): Route => {
    const r = marketRoutes({ market, ticks, feed: {} as MarketFeed }).find(
      (x) => x.path === '/api/v1/market/candles',
    );
    if (!r) throw new Error('no candles route');
    return r;
  };
  const call = async (market: MarketService, query: Record<string, string>) => {
    try {
      const reply = await routeOf(market).handle({
        method: 'GET',
        path: '/api/v1/market/candles',
        params: {},
        query: new URLSearchParams(query),
        headers: {},
        body: undefined,
        principal: undefined,
      });
      return { status: reply.status, json: reply.json as CandlesJson & { error?: string; message?: string } };
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      return { status: err.status, json: { error: err.code, message: err.message } as never };
    }
  };

  it('refuses a bad query with a 400 that names the parameter and what it takes', async () => {
    const market = petr4Market();
    const q = { ticker: 'PETR4', tf: '1m', from: String(T0), to: String(T0 + 3_600_000) };
    const refusal = async (patch: Record<string, string | undefined>) => {
      const query = Object.fromEntries(
        Object.entries({ ...q, ...patch }).filter(([, v]) => v !== undefined),
      ) as Record<string, string>;
      const r = await call(market, query);
      return [r.status, r.json.error, r.json.message];
    };
    expect(await refusal({ tf: '1h' })).toEqual([400, 'invalid_query', 'tf: one of 1m, 5m, 15m, 60m, 1D']);
    expect(await refusal({ tf: undefined })).toEqual([
      400,
      'invalid_query',
      'tf: one of 1m, 5m, 15m, 60m, 1D',
    ]);
    expect((await refusal({ ticker: 'petr4' }))[2]).toMatch(/^ticker: /);
    for (const from of [undefined, '', 'yesterday', '-1', '1.5'])
      expect((await refusal({ from }))[2]).toMatch(/^from, to: whole ms since the epoch/);
    expect((await refusal({ to: String(T0) }))[1]).toBe('bad_range');
    const years = String(T0 - 5_000 * 86_400_000);
    expect((await refusal({ from: years }))[1]).toBe('range_too_large');
    // The same span in days is 5,000 bars: fine for 1D.
    expect((await refusal({ from: years, tf: '1D' }))[0]).toBe(200);
    expect(await refusal({ ticker: 'ZZZZ9' })).toEqual([404, 'unknown_ticker', 'ZZZZ9 is not on this feed']);
  });

  it('answers up to the live candle, which the channel then brings whole: every trade once', async () => {
    const market = petr4Market();
    if (!PETR4) throw new Error('PETR4 has no rules');
    // Three minutes of trades, every 7 s: the live candle is the third minute's.
    const trades = Array.from({ length: 26 }, (_, i) =>
      sampleTrade(i + 1, { time: T0 + i * 7_000, price: 38 + (i % 5) / 100, tradeNumber: 5_000 + i }),
    );
    market.trades(PETR4, trades);
    // The writer has stored the first 15; the rest are in the ring only.
    await ticks.insert(trades.slice(0, 15));
    const r = await call(market, { ticker: 'PETR4', tf: '1m', from: String(T0), to: String(T0 + 600_000) });
    expect(r.status).toBe(200);
    const minute3 = T0 + 120_000;
    expect(r.json.liveFrom).toBe(minute3);
    expect(r.json.candles.map((c) => c.time)).toEqual([T0, T0 + 60_000]);
    const live = trades.filter((t) => t.time >= minute3);
    expect(r.json.candles.reduce((n, c) => n + c.trades, 0)).toBe(trades.length - live.length);
    // The answer then the live candle is the fold of every trade.
    const liveCandle = foldTrades([], live, 60)[0] as Candle;
    expect([...r.json.candles, liveCandle]).toEqual(foldTrades([], trades, 60));
    // On 15m the live minute's trades are left out of the one bar; merged back, it is whole.
    const q15 = await call(market, {
      ticker: 'PETR4',
      tf: '15m',
      from: String(T0),
      to: String(T0 + 600_000),
    });
    expect(q15.json.candles).toHaveLength(1);
    expect(mergeCandles(q15.json.candles[0] as Candle, liveCandle)).toEqual(
      foldTrades([], trades, TIMEFRAMES['15m'])[0],
    );
    await db.sql`delete from ticks`;
  });

  it('answers history ∪ live with no trade twice and none missed, wherever the writer is (property)', async () => {
    if (!PETR4) throw new Error('PETR4 has no rules');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 40_000 }), { minLength: 1, maxLength: 40 }),
        fc.nat(),
        fc.constantFrom('1m' as const, '5m' as const, '60m' as const),
        async (gaps, cut, tf) => {
          let time = T0;
          const trades: Trade[] = gaps.map((g, i) => {
            time += g;
            return sampleTrade(i + 1, { time, price: 38 + (i % 9) / 100, tradeNumber: 9_000 + i });
          });
          const market = petr4Market();
          market.trades(PETR4, trades);
          await ticks.insert(trades.slice(0, cut % (trades.length + 1)));
          const r = await call(market, {
            ticker: 'PETR4',
            tf,
            from: String(T0 - 3_600_000),
            to: String(T0 + 7_200_000),
          });
          await db.sql`delete from ticks`;
          const liveFrom = r.json.liveFrom as number;
          const live = foldTrades(
            [],
            trades.filter((t) => t.time >= liveFrom),
            60,
          )[0] as Candle;
          // What the app does: the live minute added to the bar of the timeframe holding it.
          const bars = r.json.candles.slice();
          const holding = foldTrades([], [sampleTrade(0, { time: live.time })], TIMEFRAMES[tf])[0] as Candle;
          const last = bars.at(-1);
          if (last && last.time === holding.time) bars[bars.length - 1] = mergeCandles(last, live);
          else bars.push({ ...live, time: holding.time });
          expect(bars).toEqual(foldTrades([], trades, TIMEFRAMES[tf]));
        },
      ),
      { numRuns: 40 },
    );
  });
});
