import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { type Config, loadConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import { type ServerHooks, startServer, type TapeServer } from '../server.ts';
import { METRICS_TOKEN } from './metrics.ts';
import { until } from './until.ts';

// For tests and benches: a whole server in-process (startTestServer) or in its own process
// (spawnServer), on PGlite or a scratch PostgreSQL database, and its REST sign-in.

export const ADMIN_PASSWORD = 'test-admin-password';
/** A REST error body's `error`: a short machine code (what it means is in `message`). */
export const ERROR_CODE = /^[a-z][a-z0-9_]*$/;

export interface TestServer {
  readonly server: TapeServer;
  readonly url: string;
  readonly wsUrl: string;
  readonly config: Config;
  /** The scratch database, reached directly (not through `route`); undefined on PGlite. */
  readonly databaseUrl: string | undefined;
  /** Restarts on the same data (same database), as after a crash or a deploy. */
  restart(hooks?: ServerHooks): Promise<TestServer>;
  close(): Promise<void>;
}

export interface TestServerOptions {
  /**
   * Rewrites the scratch database's URL the server is given, e.g. to go through a fault proxy
   * (faults/proxy.ts); the database is created and dropped directly.
   */
  readonly route?: (databaseUrl: string) => string;
}

/** A fresh database of its own on the server in DATABASE_URL, and how to drop it. */
export async function scratchPostgres(prefix: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error('DATABASE_URL is not set: no PostgreSQL server for a scratch database');
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const u = new URL(base);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end({ timeout: 5 });
    },
  };
}

/**
 * A real server on a loopback port: embedded PGlite in a fresh directory, or, for the
 * 'postgres' backend, a scratch database of its own on the server in DATABASE_URL.
 */
export async function startTestServer(
  backend: 'pglite' | 'postgres',
  env: Record<string, string> = {},
  opts: TestServerOptions = {},
): Promise<TestServer> {
  let databaseUrl: string | undefined;
  let drop: (() => Promise<void>) | undefined;
  if (backend === 'postgres') ({ url: databaseUrl, drop } = await scratchPostgres('tape_it'));
  const dataDir = mkdtempSync(join(tmpdir(), 'tape-it-'));
  const docsDir = join(dataDir, 'docs');
  mkdirSync(docsDir);
  const config = loadConfig({
    TAPE_HOST: '127.0.0.1',
    TAPE_PORT: '0',
    TAPE_DATA_DIR: dataDir,
    TAPE_STATIC_DIR: join(dataDir, 'no-static'),
    // No documents for the assistant unless a test names its own: an ingest of ./docs at every
    // boot loaded the machine under the whole suite and starved the restart-replay tests.
    TAPE_RAG_DOCS_DIRS: docsDir,
    TAPE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    TAPE_METRICS_TOKEN: METRICS_TOKEN,
    TAPE_LOG_LEVEL: process.env.TAPE_TEST_LOG ?? 'silent',
    DATABASE_URL: databaseUrl && opts.route ? opts.route(databaseUrl) : databaseUrl,
    // The simulator's history of today depends on the wall clock (thousands of trades per ticker
    // after 10:00, none on a weekend): tests that are not about the backfill start without it.
    TAPE_BACKFILL: 'off',
    ...env,
  });
  const boot = async (hooks?: ServerHooks): Promise<TestServer> => {
    const server = await startServer(config, createLogger(config.logLevel), hooks);
    const url = `http://127.0.0.1:${server.port}`;
    return {
      server,
      url,
      wsUrl: `ws://127.0.0.1:${server.port}/ws`,
      config,
      databaseUrl,
      async restart(next?: ServerHooks) {
        await server.close();
        return boot(next);
      },
      async close() {
        await server.close();
        await drop?.();
      },
    };
  };
  return boot();
}

/** A server in a child process (`tsx sync-server/main.ts`): one that can be killed for real. */
export interface ServerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  /** Everything it printed so far (JSON log lines). */
  output(): string;
  /** Resolves with the exit code or signal once it has exited. */
  readonly exited: Promise<number | NodeJS.Signals>;
}

/**
 * Starts `sync-server/main.ts` in its own process with `env` over a loopback test setup, and
 * resolves once it logs "Tape listening". `TAPE_PORT: '0'` picks a free port.
 */
export async function spawnServer(env: Record<string, string>, timeoutMs = 30_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'sync-server/main.ts'], {
    env: {
      ...process.env,
      TAPE_HOST: '127.0.0.1',
      TAPE_PORT: '0',
      TAPE_STATIC_DIR: '/nonexistent',
      TAPE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      TAPE_METRICS_TOKEN: METRICS_TOKEN,
      TAPE_LOG_LEVEL: 'info',
      TAPE_BACKFILL: 'off', // as startTestServer: on only where a test asks for it
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const collect = (d: Buffer) => {
    out += d.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code ?? 0)),
  );
  let gone: number | NodeJS.Signals | undefined;
  void exited.then((how) => {
    gone = how;
  });
  const port = await until(
    () => {
      if (gone !== undefined)
        throw new Error(`server process exited (${gone}) before listening:\n${out.slice(-2_000)}`);
      return Number(/"port":(\d+)[^\n]*Tape listening/.exec(out)?.[1]);
    },
    'server process listening',
    timeoutMs,
  );
  return { child, port, url: `http://127.0.0.1:${port}`, output: () => out, exited };
}

export const backends = (): ('pglite' | 'postgres')[] =>
  process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

export async function login(url: string, username = 'admin', password = ADMIN_PASSWORD): Promise<string> {
  const res = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!res.ok) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { accessToken: string }).accessToken;
}

/** Creates a watchlist over REST as the token's user; its id and its Yjs room name. */
export async function createWatchlist(
  url: string,
  token: string,
  name: string,
): Promise<{ id: number; room: string }> {
  const res = await fetch(`${url}/api/v1/watchlists`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (res.status !== 201)
    throw new Error(`creating watchlist "${name}" failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { watchlist: { id: number; room: string } }).watchlist;
}

/** A TCP port free on the loopback now, so a restarted server can listen where clients reconnect. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
