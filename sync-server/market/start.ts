import type { Config } from '../config.ts';
import { OpenLetterCount } from '../deadLetters/openCount.ts';
import type { DeadLetterQueue } from '../deadLetters/queue.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { AccountOfUser, OrderMarket } from '../orders/service.ts';
import { type Instrument, instrumentFor } from '../shared/instruments.ts';
import { BROKER_CONNECTED, type ServerMessage } from '../shared/market.ts';
import type { Database } from '../store/db.ts';
import { TickStore } from '../store/ticks.ts';
import { AGENTS_TOPIC, AgentDirectory, type AgentNames } from './agents.ts';
import { Backfill } from './backfill.ts';
import { type MarketConnector, MarketFeed } from './feed.ts';
import { MarketService } from './service.ts';
import {
  ADMIN_TOPIC,
  accountTopic,
  DEFAULT_WATERMARKS,
  type MarketEndpoint,
  type MarketSessionDeps,
  marketEndpoint,
} from './session.ts';
import { DEFAULT_WRITER, TickWriter, tickSink, writerMetrics } from './writer.ts';

export interface MarketOptions {
  readonly config: Config;
  readonly db: Database;
  /** The DLL, opened by the composition root (the only module that loads the binding). */
  readonly connector: MarketConnector & AgentNames;
  readonly deadLetters: DeadLetterQueue;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Checks a /ws session's access token. */
  readonly auth: { verify: MarketSessionDeps['verify'] };
  /** uWS's publish: nothing is published before the server listens. */
  readonly publish: (topic: string, message: Uint8Array | string) => boolean;
}

/** The market, and what orders take from it (OrderMarket). */
export interface Market extends OrderMarket {
  readonly service: MarketService;
  readonly feed: MarketFeed;
  /** The session so far, asked before each ticker goes live; undefined with TAPE_BACKFILL=off. */
  readonly backfill: Backfill | undefined;
  readonly writer: TickWriter;
  readonly ticks: TickStore;
  /** The /ws endpoint. */
  readonly endpoint: MarketEndpoint;
  /**
   * Shutdown, once the sockets are closed and orders stopped: the DLL finalized and its last
   * events drained; what the database does not take is dead-lettered, spilled to disk if it is down.
   */
  stop(): Promise<void>;
}

/**
 * Trades from the DLL to clients and storage: the tick writer, the market service (quotes,
 * replay rings), the feed draining the DLL, and the /ws endpoint. The quotes resume from the
 * day's stored trades; the feed is not started (`feed.start()` logs in).
 */
export async function startMarket(opts: MarketOptions): Promise<Market> {
  const { config, db, deadLetters, metrics, log } = opts;
  const ticks = new TickStore(db);
  const writer = new TickWriter(
    tickSink(ticks, (n) => metrics.tickWrites.inc(n)),
    (l) => deadLetters.add(l),
    log,
    // Two INSERT batches at once use both cores of PostgreSQL here; PGlite has a single connection.
    {
      ...DEFAULT_WRITER,
      concurrency: db.backend === 'postgres' ? 2 : 1,
      maxBufferedRows: config.tickBufferRows,
    },
  );
  writerMetrics(metrics.registry, writer);

  const agents = new AgentDirectory(
    opts.connector,
    (message) => opts.publish(AGENTS_TOPIC, message),
    (l) => deadLetters.add(l),
  );
  const service: MarketService = new MarketService({
    tickers: config.tickers,
    ringCapacity: config.replayRing,
    maxReplay: config.maxReplay,
    history: ticks,
    head: (ticker) => feed.tradeCapture.lastSeq(ticker),
    store: (t) => writer.write(t),
    deadLetter: (l) => deadLetters.add(l),
    // To the /ws sockets in batch mode, and through uWS's topics to the others.
    publish: (topic, message) => {
      endpoint.publish(topic, message);
      return opts.publish(topic, message);
    },
    status: () => feed.status,
    agents,
    log,
  });
  const instruments = new Map<string, Instrument>(
    config.tickers.flatMap((t) => {
      const i = instrumentFor(t.ticker, t.exchange);
      return i ? [[t.ticker, i] as const] : [];
    }),
  );
  const feed: MarketFeed = new MarketFeed(
    opts.connector,
    {
      key: config.profitDll.key,
      user: config.profitDll.user,
      password: config.profitDll.password,
      tickers: config.tickers,
      routing: config.profitDll.routing,
    },
    service,
    log,
    metrics,
  );
  const backfill = config.backfill.enabled
    ? new Backfill({
        connector: opts.connector,
        capture: feed.tradeCapture,
        stored: (ticker, from, to) => ticks.storedTrades(ticker, from, to),
        lastTradeTime: (ticker) => ticks.lastTradeTime(ticker),
        write: (trades) => writer.write(trades),
        flush: (timeoutMs) => writer.flush(timeoutMs),
        sinks: service,
        log,
        count: (kind, outcome, n = 1) => metrics.marketEvents.inc({ kind, outcome }, n),
        options: { stallMs: config.backfill.stallMs, backoffMs: config.backfill.retryMs },
      })
    : undefined;
  feed.fillHistoryWith(backfill);
  // Letters an earlier run spilled to disk go in first: their trades' numbers count as used.
  await deadLetters.flush();
  feed.tradeCapture.resumeFrom(await ticks.lastSeqs());
  // The day's totals so far, before the feed delivers a trade: each stored trade counted once.
  service.resume(await ticks.sessionQuotes(Date.now()));

  let accounts: AccountOfUser | undefined;
  const openLetters = new OpenLetterCount(
    () => deadLetters.store.countOpen(),
    (open) =>
      opts.publish(ADMIN_TOPIC, JSON.stringify({ type: 'deadLetters', open } satisfies ServerMessage)),
  );
  const endpoint = marketEndpoint({
    market: service,
    watermarks: {
      ...DEFAULT_WATERMARKS,
      softBytes: config.wsSoftBytes,
      hardBytes: config.wsHardBytes,
      stallMs: config.wsStallMs,
    },
    verify: (token) => opts.auth.verify(token),
    openLetters,
    accountOf: (userId) => (accounts ? accounts.accountOf(userId) : Promise.resolve(undefined)),
    onClientError: (principal, reason) => log.debug({ user: principal.username, reason }, 'ws client error'),
    metrics: {
      state: (mode, delta) => metrics.wsBackpressure.inc({ state: mode }, delta),
      slowConsumerClosed: () => metrics.slowConsumerClosed.inc(),
    },
  });

  return {
    service,
    feed,
    backfill,
    writer,
    ticks,
    endpoint,
    instruments,
    lastPrice: (ticker) => service.quote(ticker)?.last,
    priceLimits(ticker) {
      const q = service.quote(ticker);
      return q?.minLimit !== undefined && q.maxLimit !== undefined
        ? { min: q.minLimit, max: q.maxLimit }
        : undefined;
    },
    // Orders go out only while the DLL is connected to the market and to the broker.
    tradable(ticker) {
      const s = feed.status;
      return instruments.has(ticker) && s.connected && s.routing === BROKER_CONNECTED;
    },
    toAccount(accountId, message) {
      opts.publish(accountTopic(accountId), message);
    },
    serveOrders(orders) {
      accounts = orders.accounts;
      feed.announceOrdersTo(orders.announcements);
    },
    async stop() {
      endpoint.stop();
      openLetters.stop();
      await feed.stop();
      await writer.close();
    },
  };
}
