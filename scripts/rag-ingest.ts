import { join } from 'node:path';
import { ConfigError, loadConfig, StartupError } from '../sync-server/config.ts';
import { createLogger } from '../sync-server/log.ts';
import { describeIngest } from '../sync-server/rag/ingest.ts';
import { progressBar } from '../sync-server/rag/progress.ts';
import { startRag } from '../sync-server/rag/service.ts';
import { lockDataDir } from '../sync-server/store/dataDirLock.ts';
import { openDatabase } from '../sync-server/store/db.ts';
import { migrate } from '../sync-server/store/migrate.ts';
import { RagStore } from '../sync-server/store/rag.ts';

// `npm run rag:ingest`: brings the assistant's index up to date with the markdown in
// TAPE_RAG_DOCS_DIRS (incremental, by content hash), with a progress bar on stderr. Same
// settings as the server. On the embedded database (PGlite) stop the server first (a running
// one holds the data directory: exit 2, naming it), or ask a running server with
// `POST /api/v1/rag/ingest` (admin). Exit code 1 when a file was skipped.

const config = (() => {
  try {
    return loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\nSee docs/operations.md for every setting.\n`);
    return process.exit(2);
  }
})();
const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
// PGlite's files are in the data directory: one process at a time (store/dataDirLock.ts).
const lock = (() => {
  if (config.databaseUrl) return undefined;
  try {
    return lockDataDir(config.dataDir, log);
  } catch (err) {
    if (!(err instanceof StartupError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return process.exit(2);
  }
})();
const db = await openDatabase({
  databaseUrl: config.databaseUrl,
  pgliteDir: join(config.dataDir, 'pglite'),
  log,
});
try {
  await migrate(db.sql);
  const rag = await startRag(new RagStore(db.sql), config.rag, config.redisUrl, log);
  const progress = progressBar(process.stderr);
  const summary = await rag.ingest(progress);
  progress.finish(describeIngest(summary));
  for (const e of summary.errors) process.stderr.write(`  skipped ${e.path}: ${e.message}\n`);
  await rag.close();
  process.exitCode = summary.errors.length > 0 ? 1 : 0;
} catch (err) {
  process.stderr.write(`Ingest failed, the index is as it was: ${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await db.close();
  lock?.release();
}
