import { join } from 'node:path';
import { defaultLibraryPaths, ProfitConnector } from '../native/profitdll.ts';
import { AuthService } from './auth/service.ts';
import { type Collab, startCollab } from './collab/service.ts';
import type { Config } from './config.ts';
import { assistantRoutes, RAG_SCOPE, RAG_TOKEN_TTL_S } from './http/routes/assistant.ts';
import { authRoutes } from './http/routes/auth.ts';
import { marketRoutes } from './http/routes/market.ts';
import { opsRoutes } from './http/routes/ops.ts';
import { orderRoutes } from './http/routes/orders.ts';
import { watchlistRoutes } from './http/routes/watchlists.ts';
import { loadStaticFiles } from './http/static.ts';
import type { Route } from './http/types.ts';
import { listen, type RunningServer } from './http/uws.ts';
import type { Logger } from './log.ts';
import { MarketFeed } from './market/feed.ts';
import { MarketService } from './market/service.ts';
import { accountTopic, DEFAULT_WATERMARKS, marketEndpoint } from './market/session.ts';
import { DEFAULT_WRITER, TickWriter, tickSink, writerMetrics } from './market/writer.ts';
import { createMetrics } from './metrics.ts';
import { OrderManager } from './orders/manager.ts';
import { DllOrderRouter, invalidOrderLetter } from './orders/router.ts';
import { orderJson, positionJson } from './orders/wire.ts';
import { type RagService, startRag } from './rag/service.ts';
import { type Instrument, instrumentFor } from './shared/instruments.ts';
import { type DataDirLock, lockDataDir } from './store/dataDirLock.ts';
import { openDatabase } from './store/db.ts';
import { DeadLetterQueue, DeadLetterStore } from './store/deadLetters.ts';
import { migrate } from './store/migrate.ts';
import { OrderStore } from './store/orders.ts';
import { TickStore } from './store/ticks.ts';

export interface TapeServer {
  readonly port: number;
  readonly feed: MarketFeed;
  readonly market: MarketService;
  readonly connector: ProfitConnector;
  readonly writer: TickWriter;
  readonly deadLetters: DeadLetterQueue;
  readonly collab: Collab;
  /** Undefined when routing is off (TAPE_ROUTING=off). */
  readonly orders: OrderManager | undefined;
  readonly orderStore: OrderStore;
  readonly rag: RagService;
  /** Every REST route served, with its access rule (the authz matrix test walks them). */
  readonly routes: readonly Route[];
  /**
   * Graceful stop: no new connections, captured events flushed to the database, database closed,
   * the data directory released.
   */
  close(): Promise<void>;
}

/** Points in start-up a test can hold (the server runs without any). */
export interface ServerHooks {
  /** Awaited once the connector has started, before orders are reconciled with the DLL. */
  readonly beforeReconcile?: () => Promise<void>;
}

/**
 * The composition root: wires config → store → auth → market → HTTP/WS. A StartupError when the
 * data directory is another process's or the port is taken; what a failed start opened is closed.
 */
export async function startServer(config: Config, log: Logger, hooks: ServerHooks = {}): Promise<TapeServer> {
  // Before anything writes into it: a second process on one data directory corrupts it.
  const lock = lockDataDir(config.dataDir, log);
  try {
    return await start(config, log, hooks, lock);
  } catch (err) {
    lock.release();
    throw err;
  }
}

async function start(
  config: Config,
  log: Logger,
  hooks: ServerHooks,
  lock: DataDirLock,
): Promise<TapeServer> {
  const metrics = createMetrics();
  const db = await openDatabase({
    databaseUrl: config.databaseUrl,
    pgliteDir: join(config.dataDir, 'pglite'),
    log,
  });
  const endMigration = metrics.migrationSeconds.startTimer();
  const applied = await migrate(db.sql);
  endMigration();
  log.info({ applied, backend: db.backend, timescale: db.timescale }, 'database ready');

  const auth = await AuthService.create(db.sql, config);
  const collab = await startCollab({ sql: db.sql, redisUrl: config.redisUrl, limits: config.yjs, log });
  const rag = await startRag(db.sql, config.rag, config.redisUrl, log);
  const admin = await auth.bootstrapAdmin(log);
  if (admin?.generatedPassword) {
    // Printed once, straight to the terminal and never to the structured log.
    process.stdout.write(
      `\n  First start: created user "admin" with one-time password: ${admin.generatedPassword}\n` +
        '  Sign in and keep it safe; set TAPE_ADMIN_PASSWORD to choose it instead.\n\n',
    );
  }

  const deadLetters = new DeadLetterQueue(new DeadLetterStore(db.sql), {
    spillPath: join(config.dataDir, 'dead-letters.spill.ndjson'),
    onAdd: (l) => metrics.deadLetters.inc({ source: l.source, reason: l.reason }),
    onError: (err) => log.error({ err: err.message }, 'dead letters spilled to disk: database unreachable'),
    onRecovered: (count) => log.info({ count }, 'spilled dead letters moved into the database'),
  });
  const ticks = new TickStore(db);
  const writer = new TickWriter(
    tickSink(ticks, db.sql, (n) => metrics.tickWrites.inc(n)),
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

  const paths = defaultLibraryPaths();
  const connector = ProfitConnector.open({
    libraryPath: config.profitDll.path ?? paths.libraryPath,
    capturePath: paths.capturePath,
    ringCapacity: config.profitDll.captureRing,
  });
  if (connector.sim && config.profitDll.simRate) connector.sim.setRate(config.profitDll.simRate);

  let publish: (topic: string, message: Uint8Array | string) => boolean = () => false;
  let feed: MarketFeed | undefined;
  const market = new MarketService({
    tickers: config.tickers,
    ringCapacity: config.replayRing,
    maxReplay: config.maxReplay,
    history: ticks,
    head: (ticker) => (feed as MarketFeed).tradeCapture.lastSeq(ticker),
    store: (t) => writer.write(t),
    deadLetter: (l) => deadLetters.add(l),
    publish: (topic, message) => publish(topic, message),
    status: () => (feed as MarketFeed).status,
    log,
  });
  const instruments = new Map<string, Instrument>(
    config.tickers.flatMap((t) => {
      const i = instrumentFor(t.ticker, t.exchange);
      return i ? [[t.ticker, i] as const] : [];
    }),
  );
  const lastPrice = (ticker: string) => market.quote(ticker)?.last;
  const orderStore = new OrderStore(db.sql);
  const orders = config.profitDll.routing
    ? new OrderManager(
        orderStore,
        new DllOrderRouter(connector, config.profitDll.routingPassword, (err) =>
          deadLetters.add(invalidOrderLetter(err)),
        ),
        {
          lastPrice,
          priceLimits: (ticker) => {
            const q = market.quote(ticker);
            return q?.minLimit !== undefined && q.maxLimit !== undefined
              ? { min: q.minLimit, max: q.maxLimit }
              : undefined;
          },
          // Orders go out only while the DLL is connected to the market and to the broker.
          tradable: (ticker) => {
            const s = (feed as MarketFeed).status;
            return instruments.has(ticker) && s.connected && s.routing === 5;
          },
        },
        {
          order: (o) =>
            publish(accountTopic(o.accountId), JSON.stringify({ type: 'order', order: orderJson(o) })),
          position: (account, ticker, p) => {
            const inst = instruments.get(ticker);
            if (inst)
              publish(
                accountTopic(account),
                JSON.stringify({
                  type: 'position',
                  account,
                  position: positionJson(ticker, p, inst, lastPrice(ticker)),
                }),
              );
          },
        },
        (l) => deadLetters.add(l),
        log,
        instruments,
      )
    : undefined;
  feed = new MarketFeed(
    connector,
    {
      key: config.profitDll.key,
      user: config.profitDll.user,
      password: config.profitDll.password,
      tickers: config.tickers,
      routing: orders !== undefined,
      orderChanged: orders && ((id) => orders.onOrderUpdate(id)),
    },
    market,
    log,
    metrics,
  );
  // Letters an earlier run spilled to disk go in first: their trades' numbers count as used.
  await deadLetters.flush();
  feed.tradeCapture.resumeFrom(await ticks.lastSeqs());
  // The day's totals so far, before the feed delivers a trade: each stored trade counted once.
  market.resume(await ticks.sessionQuotes(Date.now()));

  const endpoint = marketEndpoint({
    market,
    watermarks: {
      ...DEFAULT_WATERMARKS,
      softBytes: config.wsSoftBytes,
      hardBytes: config.wsHardBytes,
      stallMs: config.wsStallMs,
    },
    verify: (token) => auth.verify(token),
    accountOf: (userId) => orderStore.accountOf(userId),
    onClientError: (principal, reason) => log.debug({ user: principal.username, reason }, 'ws client error'),
    metrics: {
      state: (mode, delta) => metrics.wsBackpressure.inc({ state: mode }, delta),
      slowConsumerClosed: () => metrics.slowConsumerClosed.inc(),
    },
  });
  const routes: Route[] = [
    ...opsRoutes(
      metrics.registry,
      {
        async checks() {
          const database = await db.sql`select 1`.then(
            () => true,
            () => false,
          );
          return { database, migrations: true, marketConnector: (feed as MarketFeed).status.connected };
        },
      },
      config.metricsToken,
    ),
    ...authRoutes(auth),
    ...marketRoutes({ market, ticks, deadLetters, feed }),
    ...watchlistRoutes(collab.watchlists),
    ...assistantRoutes({
      rag,
      mint: (p) => auth.tokens.sign(p, RAG_SCOPE, RAG_TOKEN_TTL_S),
      rate: { perMinute: config.rag.questionsPerMinute, burst: config.rag.burst },
    }),
    ...(orders ? orderRoutes({ manager: orders, store: orderStore, instruments, lastPrice }) : []),
  ];
  // Everything this start opened, closed in order: at shutdown, or when the port is taken.
  const stop = async (server: RunningServer | undefined) => {
    server?.close();
    endpoint.stop();
    await collab.close();
    await rag.close();
    await orders?.stop();
    await (feed as MarketFeed).stop();
    // What the database does not take is dead-lettered, spilled to disk if it is down.
    await writer.close();
    await deadLetters.close();
    await db.close();
  };
  const server = await listen(config.host, config.port, {
    log,
    metrics,
    staticFiles: loadStaticFiles(config.staticDir),
    trustedProxies: config.trustedProxies,
    authenticate: (token, scope) => auth.verify(token, scope),
    authenticateSocket: (query) => auth.authenticateSocket(query),
    routes,
    ws: [endpoint, collab.endpoint],
  }).catch(async (err: unknown) => {
    await stop(undefined);
    throw err;
  });
  publish = server.publish;
  log.info({ port: server.port }, `Tape listening on http://${config.host}:${server.port}`);

  // The market connects in the background: /readyz reports it, the server serves meanwhile.
  // Orders are accepted once the DLL's own order list has been reconciled with ours.
  feed
    .start()
    .then(async () => {
      if (!orders) return;
      await hooks.beforeReconcile?.();
      const r = await orders.reconcile();
      log.info(r, 'orders reconciled with the DLL');
    })
    .catch((err: Error) => log.error({ err: err.message }, 'market connector failed to start'));
  // The assistant's index catches up with the docs in the background (incremental: a no-op when
  // nothing changed); /api/v1/rag/status says "indexing" meanwhile. Failures are logged by it.
  rag.ingest().catch(() => {});

  return {
    port: server.port,
    feed,
    market,
    connector,
    writer,
    deadLetters,
    collab,
    orders,
    orderStore,
    rag,
    routes,
    async close() {
      await stop(server);
      lock.release();
    },
  };
}
