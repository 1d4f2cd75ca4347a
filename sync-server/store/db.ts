import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import postgres from 'postgres';
import type { Logger } from '../log.ts';

export type Sql = postgres.Sql;

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
    const sql = postgres(opts.databaseUrl, { max: 10, onnotice: quiet, connect_timeout: 10 });
    await sql`select 1`;
    const timescale = await detectTimescale(sql, opts.log);
    return { sql, backend: 'postgres', timescale, close: () => sql.end({ timeout: 5 }) };
  }
  return openPglite(opts);
}

// PGlite is one session: it is served to postgres.js over a private unix socket with a pool of
// one connection, so the same SQL code runs on both backends and transactions never interleave.
async function openPglite(opts: DatabaseOptions): Promise<Database> {
  if (opts.pgliteDir !== 'memory://') await mkdir(opts.pgliteDir, { recursive: true });
  const db = await PGlite.create(opts.pgliteDir);
  const socketDir = mkdtempSync(join(tmpdir(), 'tape-pglite-'));
  const server = new PGLiteSocketServer({ db, path: join(socketDir, '.s.PGSQL.5432'), maxConnections: 1 });
  await server.start();
  const sql = postgres({
    host: socketDir,
    port: 5432,
    path: join(socketDir, '.s.PGSQL.5432'),
    username: 'postgres',
    database: 'postgres',
    max: 1,
    onnotice: quiet,
  });
  await sql`select 1`;
  const timescale = await detectTimescale(sql, opts.log);
  return {
    sql,
    backend: 'pglite',
    timescale,
    async close() {
      await sql.end({ timeout: 5 });
      await server.stop();
      await db.close();
      rmSync(socketDir, { recursive: true, force: true });
    },
  };
}

async function detectTimescale(sql: Sql, log: Logger): Promise<boolean> {
  try {
    await sql`create extension if not exists timescaledb`;
    log.info('TimescaleDB extension present: hypertables, continuous aggregates and compression enabled');
    return true;
  } catch (err) {
    log.info(
      { reason: (err as Error).message },
      'TimescaleDB not available: using plain PostgreSQL partitions',
    );
    return false;
  }
}
