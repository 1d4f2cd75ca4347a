import { join } from 'node:path';
import { defaultLibraryPaths, ProfitConnector } from '../native/profitdll.ts';
import { newVapidKeys, type VapidKeys, WebPushSender } from './alerts/push.ts';
import { AlertService } from './alerts/service.ts';
import { AuthService, type SocketCloser } from './auth/service.ts';
import { type Collab, startCollab } from './collab/service.ts';
import type { Config } from './config.ts';
import { DeadLetterQueue } from './deadLetters/queue.ts';
import { HealthMonitor } from './health.ts';
import { accountRoutes } from './http/routes/accounts.ts';
import { alertRoutes } from './http/routes/alerts.ts';
import { assistantRoutes, RAG_SCOPE, RAG_TOKEN_TTL_S } from './http/routes/assistant.ts';
import { auditRoutes } from './http/routes/audit.ts';
import { authRoutes } from './http/routes/auth.ts';
import { bracketRoutes } from './http/routes/brackets.ts';
import { costRoutes } from './http/routes/costs.ts';
import { deadLetterRoutes } from './http/routes/deadLetters.ts';
import { healthRoutes } from './http/routes/health.ts';
import { marketRoutes } from './http/routes/market.ts';
import { opsRoutes } from './http/routes/ops.ts';
import { orderRoutes } from './http/routes/orders.ts';
import { riskRoutes } from './http/routes/risk.ts';
import { setupRoutes } from './http/routes/setup.ts';
import { userRoutes } from './http/routes/users.ts';
import { watchlistRoutes } from './http/routes/watchlists.ts';
import { loadStaticFiles } from './http/static.ts';
import type { Route } from './http/types.ts';
import { listen, type RunningServer } from './http/uws.ts';
import type { Logger } from './log.ts';
import type { MarketFeed } from './market/feed.ts';
import type { MarketService } from './market/service.ts';
import { userTopic } from './market/session.ts';
import { startMarket } from './market/start.ts';
import type { TickWriter } from './market/writer.ts';
import { createMetrics } from './metrics.ts';
import type { Brackets } from './orders/brackets.ts';
import type { OrderManager } from './orders/manager.ts';
import { startOrders } from './orders/service.ts';
import { type RagService, startRag } from './rag/service.ts';
import { BROKER_CONNECTED } from './shared/market.ts';
import { AccountStore } from './store/accounts.ts';
import { AlertStore } from './store/alerts.ts';
import { AuditStore } from './store/audit.ts';
import { BracketStore } from './store/brackets.ts';
import { CollabStore } from './store/collab.ts';
import { type DataDirLock, lockDataDir } from './store/dataDirLock.ts';
import { openDatabase } from './store/db.ts';
import { DeadLetterStore } from './store/deadLetters.ts';
import { migrate } from './store/migrate.ts';
import { OrderStore } from './store/orders.ts';
import { RagStore } from './store/rag.ts';
import { UserStore } from './store/users.ts';
import { CloseCode } from './ws.ts';

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
  readonly brackets: Brackets | undefined;
  readonly orderStore: OrderStore;
  readonly alerts: AlertService;
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
 * The composition root: config → store → auth → collab, rag → dead letters → the DLL → market →
 * orders → HTTP/WS. A StartupError when the data directory is another process's or the port is
 * taken; what a failed start opened is closed.
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

  // A disable or a sign-out closes the user's sockets: those uWS holds once it listens.
  let closeSockets: SocketCloser = () => {};
  const users = new UserStore(db.sql);
  const auth = await AuthService.create(users, config, (id, reason) => closeSockets(id, reason));
  // Web Push's key pair: the configured one, or one generated at the first start and kept like the JWT secret.
  const vapid: VapidKeys = config.push.vapid
    ? { ...config.push.vapid, subject: config.push.subject }
    : {
        ...(JSON.parse(
          await users.secret('vapid', () => JSON.stringify(newVapidKeys(config.push.subject))),
        ) as VapidKeys),
        subject: config.push.subject,
      };
  const collab = await startCollab({
    store: new CollabStore(db.sql),
    redisUrl: config.redisUrl,
    limits: config.yjs,
    log,
  });
  const rag = await startRag(new RagStore(db.sql), config.rag, config.redisUrl, log);
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
  const paths = defaultLibraryPaths();
  const connector = ProfitConnector.open({
    libraryPath: config.profitDll.path ?? paths.libraryPath,
    capturePath: paths.capturePath,
    ringCapacity: config.profitDll.captureRing,
  });
  if (connector.sim && config.profitDll.simRate) connector.sim.setRate(config.profitDll.simRate);
  // Once: which generation of ProfitDLL's market-data calls this DLL gets (docs/native.md).
  log.info(
    { marketDataApi: connector.marketDataApi },
    connector.marketDataApi.trades === 'v2' && connector.marketDataApi.book === 'v2'
      ? 'ProfitDLL: current market-data calls (SetTradeCallbackV2, SubscribePriceDepth)'
      : 'ProfitDLL: an older DLL, obsolete market-data calls used where the current ones are missing',
  );

  // uWS listens last, once every route and endpoint exists: until then nothing is published.
  let publish: (topic: string, message: Uint8Array | string) => boolean = () => false;
  const market = await startMarket({
    config,
    db,
    connector,
    deadLetters,
    metrics,
    log,
    auth,
    publish: (topic, message) => publish(topic, message),
  });
  const orderStore = new OrderStore(db.sql);
  const bracketStore = new BracketStore(db.sql);
  const alertStore = new AlertStore(db.sql);
  const pushSender = new WebPushSender(vapid);
  const alerts = new AlertService({
    store: alertStore,
    market: { instruments: market.instruments, quote: (ticker) => market.service.quote(ticker) },
    delivery: {
      toUser: (userId, message) => publish(userTopic(userId), message),
      connected: (userId) => market.endpoint.connected(userId),
      push: (target, payload) => pushSender.send(target, payload),
    },
    accountOf: (userId) => orderStore.accountOf(userId),
    disabled: (userId) => auth.isDisabled(userId),
    log,
    count: {
      fired: (notified) => metrics.alertFirings.inc({ notified }),
      pushed: (outcome) => metrics.pushes.inc({ outcome }),
    },
  });
  await alerts.start();
  market.service.watchTrades(alerts);
  const orders = startOrders({
    alerts,
    store: orderStore,
    brackets: bracketStore,
    dll: connector,
    profitDll: config.profitDll,
    market,
    deadLetters,
    log,
  });

  const accounts = new AccountStore(db.sql);
  const audit = new AuditStore(db.sql);
  const probeDatabase = () =>
    db.sql`select 1`.then(
      () => true,
      () => false,
    );
  const health = new HealthMonitor({
    connector: () => market.feed.status,
    linkChangedAt: (link) => market.feed.linkChangedAt(link),
    tradeCounts: () =>
      Object.fromEntries(config.tickers.map((t) => [t.ticker, market.service.quote(t.ticker)?.trades ?? 0])),
    ring: () => ({ ...connector.ring(), dropped: Number(connector.dropped()) }),
    writer: () => ({
      bufferedRows: market.writer.stats.buffered,
      databaseUp: market.writer.stats.databaseUp,
    }),
    database: probeDatabase,
    redis: () => (config.redisUrl ? collab.hub.stats.busConnected : null),
    clients: () => ({ market: market.endpoint.sockets, yjs: collab.hub.stats.connections }),
    deadLettersOpen: () => deadLetters.store.countOpen(),
  });
  health.start();

  const routes: Route[] = [
    ...opsRoutes(
      metrics.registry,
      {
        async checks() {
          return {
            database: await probeDatabase(),
            migrations: true,
            marketConnector: market.feed.status.connected,
          };
        },
      },
      config.metricsToken,
    ),
    ...authRoutes(auth),
    ...userRoutes(auth),
    ...marketRoutes({ market: market.service, ticks: market.ticks, feed: market.feed }),
    ...deadLetterRoutes({
      letters: deadLetters.store,
      targets: {
        capture: (payload) =>
          market.feed.tradeCapture.capture(payload as Parameters<typeof market.feed.tradeCapture.capture>[0]),
        trades: (instrument, trades) => market.service.trades(instrument, trades),
        insert: (trades) => market.ticks.insert(trades),
      },
      audit,
    }),
    ...auditRoutes(audit),
    ...watchlistRoutes(collab.watchlists),
    ...healthRoutes(health),
    ...setupRoutes({
      accounts,
      orders: orderStore,
      routing: orders.manager !== undefined,
      // What the DLL knows once routing has reached the broker (5: broker connected).
      brokerAccounts: () => (market.feed.status.routing === BROKER_CONNECTED ? connector.accounts() : null),
    }),
    ...alertRoutes({
      alerts,
      vapidPublicKey: vapid.publicKey,
      allowLoopback: config.push.allowLoopback,
    }),
    ...assistantRoutes({
      rag,
      mint: (p) => auth.tokens.sign(p, RAG_SCOPE, RAG_TOKEN_TTL_S),
      rate: { perMinute: config.rag.questionsPerMinute, burst: config.rag.burst },
    }),
    ...(orders.manager
      ? [
          ...orderRoutes({
            manager: orders.manager,
            store: orderStore,
            audit,
            instruments: market.instruments,
            lastPrice: market.lastPrice,
            brackets: orders.brackets,
          }),
          ...(orders.brackets
            ? bracketRoutes({
                brackets: orders.brackets,
                store: bracketStore,
                orders: orderStore,
                audit,
                instruments: market.instruments,
                lastPrice: market.lastPrice,
              })
            : []),
          ...riskRoutes({ manager: orders.manager, store: orderStore }),
          ...costRoutes({ manager: orders.manager, store: orderStore }),
          ...accountRoutes(orderStore, accounts),
        ]
      : []),
  ];
  // Everything this start opened, closed in order: at shutdown, or when the port is taken.
  const stop = async (server: RunningServer | undefined) => {
    server?.close();
    health.stop();
    alerts.stop();
    await collab.close();
    await rag.close();
    // Orders first: a read of an order the DLL announced finishes before the DLL is finalized.
    await orders.stop();
    await market.stop();
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
    ws: [market.endpoint, collab.endpoint],
  }).catch(async (err: unknown) => {
    await stop(undefined);
    throw err;
  });
  publish = server.publish;
  closeSockets = (id, reason) => server.closeSockets(id, CloseCode.unauthorized, reason);
  log.info({ port: server.port }, `Tape listening on http://${config.host}:${server.port}`);

  // The market connects in the background: /readyz reports it, the server serves meanwhile.
  // Orders are accepted once the DLL's own order list has been reconciled with ours.
  market.feed
    .start()
    .then(() => orders.reconcile(hooks.beforeReconcile))
    .catch((err: Error) => log.error({ err: err.message }, 'market connector failed to start'));
  // The assistant's index catches up with the docs in the background (incremental: a no-op when
  // nothing changed); /api/v1/rag/status says "indexing" meanwhile. Failures are logged by it.
  rag.ingest().catch(() => {});

  return {
    port: server.port,
    feed: market.feed,
    market: market.service,
    connector,
    writer: market.writer,
    deadLetters,
    collab,
    orders: orders.manager,
    brackets: orders.brackets,
    orderStore,
    alerts,
    rag,
    routes,
    async close() {
      await stop(server);
      lock.release();
    },
  };
}
