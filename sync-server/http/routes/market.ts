import { z } from 'zod';
import type { MarketFeed } from '../../market/feed.ts';
import { sessionFlow } from '../../market/flow.ts';
import type { MarketService } from '../../market/service.ts';
import { TIMEFRAMES, type TickStore } from '../../store/ticks.ts';
import { HttpError, ok, type Route } from '../types.ts';

const candleQuery = z.object({
  ticker: z.string().regex(/^[A-Z0-9]{4,12}$/),
  tf: z.enum(Object.keys(TIMEFRAMES) as [keyof typeof TIMEFRAMES]),
  from: z.coerce.number().int().min(0),
  to: z.coerce.number().int().min(0),
});
const MAX_CANDLES = 10_000;
const flowQuery = z.object({ ticker: z.string().regex(/^[A-Z0-9]{4,12}$/) }).strict();

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
      path: '/api/v1/market/candles',
      access: everyone,
      async handle(req) {
        const q = candleQuery.parse(Object.fromEntries(req.query));
        if (!market.tickerList.includes(q.ticker))
          throw new HttpError(404, 'unknown_ticker', `${q.ticker} is not on this feed`);
        if (q.to <= q.from)
          throw new HttpError(400, 'bad_range', '`to` must be after `from` (ms since the epoch)');
        if ((q.to - q.from) / 1000 / TIMEFRAMES[q.tf] > MAX_CANDLES) {
          throw new HttpError(
            400,
            'range_too_large',
            `At most ${MAX_CANDLES} candles per request: narrow the range or widen tf`,
          );
        }
        return ok({ ticker: q.ticker, tf: q.tf, candles: await ticks.candles(q.ticker, q.tf, q.from, q.to) });
      },
    },
  ];
}
