import { z } from 'zod';
import type { DeadLetterQueue } from '../../deadLetters/queue.ts';
import { redrive } from '../../deadLetters/redrive.ts';
import type { MarketFeed } from '../../market/feed.ts';
import type { MarketService } from '../../market/service.ts';
import { TIMEFRAMES, type TickStore } from '../../store/ticks.ts';
import { HttpError, ok, type Route } from '../types.ts';

const candleQuery = z.object({
  ticker: z.string().regex(/^[A-Z0-9]{4,12}$/),
  tf: z.enum(Object.keys(TIMEFRAMES) as [keyof typeof TIMEFRAMES]),
  from: z.coerce.number().int().min(0),
  to: z.coerce.number().int().min(0),
});
const letterQuery = z.object({
  source: z.string().max(100).optional(),
  includeResolved: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  beforeId: z.coerce.number().int().positive().optional(),
});
const MAX_CANDLES = 10_000;

export interface MarketRouteDeps {
  readonly market: MarketService;
  readonly ticks: TickStore;
  readonly deadLetters: DeadLetterQueue;
  readonly feed: MarketFeed;
}

export function marketRoutes({ market, ticks, deadLetters, feed }: MarketRouteDeps): Route[] {
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
    {
      method: 'get',
      path: '/api/v1/admin/dead-letters',
      access: ['admin'],
      async handle(req) {
        const q = letterQuery.parse(Object.fromEntries(req.query));
        const letters = await deadLetters.store.list({ ...q, includeResolved: q.includeResolved === 'true' });
        return ok({ deadLetters: letters, open: await deadLetters.store.countOpen() });
      },
    },
    {
      method: 'post',
      path: '/api/v1/admin/dead-letters/:id/redrive',
      access: ['admin'],
      async handle(req) {
        const id = Number(req.params.id);
        const r = await redrive(id, deadLetters.store, {
          capture: (payload) =>
            feed.tradeCapture.capture(payload as Parameters<typeof feed.tradeCapture.capture>[0]),
          trades: (instrument, trades) => market.trades(instrument, trades),
          insert: (trades) => ticks.insert(trades),
        });
        switch (r.outcome) {
          case 'not_found':
            throw new HttpError(404, 'not_found', `No dead letter ${req.params.id}`);
          case 'already_resolved':
            throw new HttpError(409, 'already_resolved', `Dead letter ${id} was already ${r.resolution}`);
          case 'not_redrivable':
            throw new HttpError(422, 'not_redrivable', `Letters from ${r.source} cannot be redriven`);
          case 'refused':
            return ok({ redriven: false, reason: r.reason, detail: r.detail });
          case 'redriven':
            return ok({ redriven: true });
        }
      },
    },
  ];
}
