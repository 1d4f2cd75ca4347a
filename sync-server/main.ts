import { ConfigError, loadConfig, StartupError } from './config.ts';
import { createLogger } from './log.ts';
import { startServer } from './server.ts';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\nSee docs/operations.md for every setting.\n`);
    process.exit(2);
  }
  throw err;
}
const log = createLogger(config.logLevel);
// Signals are taken from the start: one that arrives while the server starts stops it cleanly
// as soon as it is up, instead of killing it half-way through a migration or a reconciliation.
let server: Awaited<ReturnType<typeof startServer>> | undefined;
let pending: string | undefined;
let stopping = false;
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
try {
  server = await startServer(config, log);
} catch (err) {
  log.flush();
  // The port or the data directory is another process's: said plainly, exit 2 as for a setting.
  if (err instanceof StartupError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  // Anything else (the database refused us, the DLL would not load): one readable line, exit 1.
  process.stderr.write(`Tape could not start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
if (pending) shutdown(pending);

function shutdown(signal: string) {
  if (!server) {
    pending = signal;
    log.info({ signal }, 'stop requested while starting: stopping once started');
    return;
  }
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  const timer = setTimeout(() => {
    log.error(`shutdown took over ${config.shutdownTimeoutMs} ms: exiting anyway`);
    process.exit(1);
  }, config.shutdownTimeoutMs);
  timer.unref();
  server.close().then(
    () => {
      log.info('stopped cleanly');
      log.flush();
      process.exit(0);
    },
    (err: Error) => {
      log.error({ err: err.message }, 'error while shutting down');
      process.exit(1);
    },
  );
}
