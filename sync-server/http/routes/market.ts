import { z } from 'zod';
import type { MarketFeed } from '../../market/feed.ts';
import { sessionFlow } from '../../market/flow.ts';
import type { MarketService } from '../../market/service.ts';
import {
  type CandlesJson,
  foldTrades,
  MAX_CANDLES,
  TIMEFRAME_NAMES,
  TIMEFRAMES,
  type Timeframe,
} from '../../shared/candles.ts';
import { type Candle, decodeFrame, FrameKind } from '../../shared/market.ts';
import type { TickStore } from '../../store/ticks.ts';
import { HttpError, ok, type Request, type Route } from '../types.ts';

const TICKER = /^[A-Z0-9]{4,12}$/;
const epochMs = z.coerce.number().int().min(0).max(8.64e15);

interface CandleQuery {
  readonly ticker: string;
  readonly tf: Timeframe;
  readonly from: number;
  readonly to: number;
}

/** The candles query, each bad parameter a 400 that names it and says what it takes. */
function candleQuery(req: Request): CandleQuery {
  const q = Object.fromEntries(req.query);
  const bad = (what: string) => new HttpError(400, 'invalid_query', what);
  const ticker = q.ticker ?? '';
  if (!TICKER.test(ticker)) throw bad('ticker: 4-12 capital letters and digits, e.g. PETR4');
  const tf = q.tf ?? '';
  if (!TIMEFRAME_NAMES.includes(tf as Timeframe)) throw bad(`tf: one of ${TIMEFRAME_NAMES.join(', ')}`);
  const from = epochMs.safeParse(q.from);
  const to = epochMs.safeParse(q.to);
  if (!from.success || !to.success || q.from === '' || q.to === '')
    throw bad('from, to: whole ms since the epoch, e.g. from=1764676800000');
  if (to.data <= from.data)
    throw new HttpError(400, 'bad_range', '`to` must be after `from` (ms since the epoch)');
  if ((to.data - from.data) / 1000 / TIMEFRAMES[tf as Timeframe] > MAX_CANDLES) {
    throw new HttpError(
      400,
      'range_too_large',
      `At most ${MAX_CANDLES} candles per request: narrow the range or widen tf`,
    );
  }
  return { ticker, tf: tf as Timeframe, from: from.data, to: to.data };
}

/** The server's forming 1-minute live candle of the ticker, if any trade made one. */
function liveCandle(market: MarketService, ticker: string): Candle | undefined {
  const frame = market.candleFrame(ticker);
  const decoded = frame && decodeFrame(frame);
  return decoded?.kind === FrameKind.candles ? decoded.candles.at(-1) : undefined;
}
const flowQuery = z.object({ ticker: z.string().regex(/^[A-Z0-9]{4,12}$/) }).strict();
/** Times & Trades' older trades: the `limit` before seq `before` (the newest without it). */
const recentQuery = z
  .object({
    ticker: z.string().regex(/^[A-Z0-9]{4,12}$/),
    before: z.coerce.number().int().min(1).optional(),
    limit: z.coerce.number().int().min(1).max(2_000).default(500),
  })
  .strict();

export interface MarketRouteDeps {
  readonly market: MarketService;
  readonly ticks: TickStore;
  readonly feed: MarketFeed;
}

export function marketRoutes({ market, ticks, feed }: MarketRouteDeps): Route[] {
  const everyone = ['admin', 'trader', 'viewer'] as const;
  return [
    {
      method: 'get',
      path: '/api/v1/market/quotes',
      access: everyone,
      handle: () =>
        ok({ quotes: market.tickerList.map((t) => market.quote(t)).filter(Boolean), connector: feed.status }),
    },
    {
      method: 'get',
      path: '/api/v1/market/flow',
      access: everyone,
      async handle(req) {
        const { ticker } = flowQuery.parse(Object.fromEntries(req.query));
        if (!market.tickerList.includes(ticker))
          throw new HttpError(404, 'unknown_ticker', `${ticker} is not on this feed`);
        return ok(
          await sessionFlow(ticker, Date.now(), {
            stored: (t, at) => ticks.brokerFlow(t, at),
            since: (t, after) => market.tradesSince(t, after),
          }),
        );
      },
    },
    {
      method: 'get',
      path: '/api/v1/market/trades',
      access: everyone,
      async handle(req) {
        const q = recentQuery.parse(Object.fromEntries(req.query));
        if (!market.tickerList.includes(q.ticker))
          throw new HttpError(404, 'unknown_ticker', `${q.ticker} is not on this feed`);
        const trades = await market.tradesBefore(q.ticker, q.before ?? Number.MAX_SAFE_INTEGER, q.limit);
        if (!trades)
          throw new HttpError(503, 'history_unavailable', 'the stored trades could not be read: try again');
        return ok({ ticker: q.ticker, trades });
      },
    },
    {
      method: 'get',
      path: '/api/v1/market/candles',
      access: everyone,
      async handle(req) {
        const q = candleQuery(req);
        if (!market.tickerList.includes(q.ticker))
          throw new HttpError(404, 'unknown_ticker', `${q.ticker} is not on this feed`);
        // Read together, before any await: the forming live candle holds the ticker's last
        // `trades` trades, so the answer stops just before them and the channel brings them.
        const live = liveCandle(market, q.ticker);
        const through = market.lastSeq(q.ticker) - (live?.trades ?? 0);
        const stored = await ticks.candles(q.ticker, q.tf, q.from, q.to, through);
        // Fanned out but not written yet: the ring's trades after the stored ones, to `through`.
        const unwritten = (market.tradesSince(q.ticker, stored.storedThrough) ?? []).filter(
          (t) => t.seq <= through && t.time >= q.from && t.time < q.to,
        );
        const answer: CandlesJson = {
          ticker: q.ticker,
          tf: q.tf,
          candles: foldTrades(stored.candles, unwritten, TIMEFRAMES[q.tf]),
          liveFrom: live ? live.time : null,
        };
        return ok(answer);
      },
    },
  ];
}
