import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import postgres from 'postgres';
import type { Logger } from '../log.ts';

export type Sql = postgres.Sql;

/** A statement's fragment (sql`source = ${x}`), composed into another. */
export type Fragment = postgres.PendingQuery<postgres.Row[]>;

/**
 * The filters given, joined with `and` (true when none is), each a condition of its own: a
 * statement that says `$1 is null or source = $1` gets one plan for every filter, which cannot
 * use an index of the column.
 */
export const allOf = (sql: Sql, conditions: readonly (Fragment | false)[]): Fragment =>
  conditions.reduce<Fragment>((all, c) => (c ? sql`${all} and ${c}` : all), sql`true`);

export interface Database {
  readonly sql: Sql;
  readonly backend: 'pglite' | 'postgres';
  /** True when `CREATE EXTENSION IF NOT EXISTS timescaledb` succeeded. */
  readonly timescale: boolean;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres:// URL of a real server; absent → embedded PGlite. */
  readonly databaseUrl?: string | undefined;
  /** Where PGlite keeps its files; `memory://` keeps nothing. */
  readonly pgliteDir: string;
  readonly log: Logger;
}

const quiet = () => {};

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if (opts.databaseUrl) {
    const sql = postgres(opts.databaseUrl, {
      max: 10,
      onnotice: quiet,
      connect_timeout: 10,
      // postgres.js waits up to 20 s between reconnects by default: after an outage, requests
      // and the tick backlog would wait that long for a database that is already back.
      backoff: (retries: number) => (0.5 + Math.random() / 2) * Math.min(3 ** retries / 100, 2),
    });
    await sql`select 1`;
    const timescale = await detectTimescale(sql, 'postgres', opts.log);
    return { sql, backend: 'postgres', timescale, close: () => sql.end({ timeout: 5 }) };
  }
  return openPglite(opts);
}

// PGlite is one session: it runs in a worker thread (pglite-worker.mjs) and is served to
// postgres.js over a private unix socket with a pool of one connection, so the same SQL code
// runs on both backends, transactions never interleave, and queries never block the event loop.
async function openPglite(opts: DatabaseOptions): Promise<Database> {
  if (opts.pgliteDir !== 'memory://') await mkdir(opts.pgliteDir, { recursive: true });
  const socketDir = mkdtempSync(join(tmpdir(), 'tape-pglite-'));
  const socketPath = join(socketDir, '.s.PGSQL.5432');
  const worker = new Worker(new URL('./pglite-worker.mjs', import.meta.url), {
    workerData: { dataDir: opts.pgliteDir, socketPath },
  });
  const reply = (want: 'ready' | 'stopped') =>
    new Promise<void>((resolve, reject) => {
      const onMessage = (m: { ready?: true; stopped?: true; error?: string }) => {
        if (m.error) reject(new Error(`PGlite failed to start: ${m.error}`));
        else if (m[want]) resolve();
        else return;
        worker.off('message', onMessage);
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
  await reply('ready');
  const sql = postgres({
    host: socketDir,
    port: 5432,
    path: socketPath,
    username: 'postgres',
    database: 'postgres',
    max: 1,
    onnotice: quiet,
  });
  await sql`select 1`;
  const timescale = await detectTimescale(sql, 'pglite', opts.log);
  return {
    sql,
    backend: 'pglite',
    timescale,
    async close() {
      await sql.end({ timeout: 5 });
      const stopped = reply('stopped');
      worker.postMessage('stop');
      await stopped;
      await worker.terminate();
      rmSync(socketDir, { recursive: true, force: true });
    },
  };
}

/** Whether TimescaleDB can be had; the log says which backend runs, with it or without. */
async function detectTimescale(sql: Sql, backend: Database['backend'], log: Logger): Promise<boolean> {
  const name = backend === 'pglite' ? 'PGlite (embedded, under TAPE_DATA_DIR)' : 'PostgreSQL (DATABASE_URL)';
  try {
    await sql`create extension if not exists timescaledb`;
    log.info({ backend }, `${name} with TimescaleDB: ticks in a hypertable, compressed and retained`);
    return true;
  } catch (err) {
    log.info(
      { backend, reason: (err as Error).message },
      `${name} without TimescaleDB: ticks in plain range partitions by day`,
    );
    return false;
  }
}
