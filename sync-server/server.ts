import { defaultLibraryPaths, ProfitConnector } from '../native/profitdll.ts';
import { AuthService } from './auth/service.ts';
import type { Config } from './config.ts';
import { authRoutes } from './http/routes/auth.ts';
import { opsRoutes } from './http/routes/ops.ts';
import { loadStaticFiles } from './http/static.ts';
import { listen } from './http/uws.ts';
import type { Logger } from './log.ts';
import { type FeedSinks, MarketFeed } from './market/feed.ts';
import { encodeTrades, topicFor } from './market/protocol.ts';
import { QuoteBoard } from './market/quotes.ts';
import { marketEndpoint } from './market/session.ts';
import { createMetrics } from './metrics.ts';
import { openDatabase } from './store/db.ts';
import { migrate } from './store/migrate.ts';

export interface TapeServer {
  readonly port: number;
  readonly feed: MarketFeed;
  readonly connector: ProfitConnector;
  /** Graceful stop: no new connections, captured events flushed, database closed. */
  close(): Promise<void>;
}

/** The composition root: wires config → store → auth → market → HTTP/WS. */
export async function startServer(config: Config, log: Logger): Promise<TapeServer> {
  const metrics = createMetrics();
  const db = await openDatabase({
    databaseUrl: config.databaseUrl,
    pgliteDir: `${config.dataDir}/pglite`,
    log,
  });
  const endMigration = metrics.migrationSeconds.startTimer();
  const applied = await migrate(db.sql);
  endMigration();
  log.info({ applied, backend: db.backend, timescale: db.timescale }, 'database ready');

  const auth = await AuthService.create(db.sql, config);
  const admin = await auth.bootstrapAdmin(log);
  if (admin?.generatedPassword) {
    // Printed once, straight to the terminal and never to the structured log.
    process.stdout.write(
      `\n  First start: created user "admin" with one-time password: ${admin.generatedPassword}\n` +
        '  Sign in and keep it safe; set TAPE_ADMIN_PASSWORD to choose it instead.\n\n',
    );
  }

  const paths = defaultLibraryPaths();
  const connector = ProfitConnector.open({
    libraryPath: config.profitDll.path ?? paths.libraryPath,
    capturePath: paths.capturePath,
  });
  if (connector.sim && config.profitDll.simRate) connector.sim.setRate(config.profitDll.simRate);

  const quotes = new QuoteBoard();
  let publish: (topic: string, message: Uint8Array | string) => boolean = () => false;
  const sinks: FeedSinks = {
    trades(instrument, trades) {
      quotes.apply(instrument.ticker, instrument.exchange, trades);
      publish(topicFor('trades', instrument.ticker), encodeTrades(instrument.ticker, trades));
    },
    deadLetter(letter) {
      log.warn({ letter }, 'market event dead-lettered');
    },
    status(status) {
      publish('connector', JSON.stringify({ type: 'connector', status }));
    },
  };
  const feed = new MarketFeed(
    connector,
    {
      key: config.profitDll.key,
      user: config.profitDll.user,
      password: config.profitDll.password,
      tickers: config.tickers,
    },
    sinks,
    log,
    metrics,
  );

  const tickers = config.tickers.map((t) => t.ticker);
  const server = await listen(config.host, config.port, {
    log,
    metrics,
    staticFiles: loadStaticFiles(config.staticDir),
    authenticate: (token) => auth.verify(token),
    routes: [
      ...opsRoutes(metrics.registry, {
        async checks() {
          const database = await db.sql`select 1`.then(
            () => true,
            () => false,
          );
          return { database, migrations: true, marketConnector: feed.status.connected };
        },
      }),
      ...authRoutes(auth),
    ],
    ws: [
      marketEndpoint({
        market: { tickers: () => tickers, quote: (t) => quotes.get(t), connectorStatus: () => feed.status },
        verify: (token) => auth.verify(token),
        onClientError: (principal, reason) =>
          log.debug({ user: principal.username, reason }, 'ws client error'),
      }),
    ],
  });
  publish = server.publish;
  log.info({ port: server.port }, `Tape listening on http://${config.host}:${server.port}`);

  // The market connects in the background: /readyz reports it, the server serves meanwhile.
  feed.start().catch((err: Error) => log.error({ err: err.message }, 'market connector failed to start'));

  return {
    port: server.port,
    feed,
    connector,
    async close() {
      server.close();
      feed.stop();
      await db.close();
    },
  };
}
