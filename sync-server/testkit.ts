import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import WebSocket from 'ws';
import { decodeMessage, type YMessage } from './collab/protocol.ts';
import { type Config, loadConfig } from './config.ts';
import { createLogger } from './log.ts';
import { MarketService, type MarketServiceDeps } from './market/service.ts';
import { type ServerHooks, startServer, type TapeServer } from './server.ts';

export const ADMIN_PASSWORD = 'test-admin-password';
/** A REST error body's `error`: a short machine code (what it means is in `message`). */
export const ERROR_CODE = /^[a-z][a-z0-9_]*$/;
/** The scrape token (TAPE_METRICS_TOKEN) of every test server: `scrape` reads /metrics with it. */
export const METRICS_TOKEN = 'test-metrics-scrape-token-0123456789';

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

export async function until<T>(
  probe: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A `ws` WebSocket typed as the DOM one, for the app's client library under Node. */
export const NodeWebSocket = WebSocket as unknown as typeof globalThis.WebSocket;

/** Now as ProfitDLL prints it: DD/MM/YYYY HH:MM:SS.ZZZ in B3 time (UTC−3). */
export function b3Now(): string {
  const d = new Date(Date.now() - 3 * 3_600_000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCDate())}/${p(d.getUTCMonth() + 1)}/${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}`;
}

/** A raw /yjs socket (no provider): what it received, decoded, and how it was closed. */
export function rawYjsSocket(port: number, room: string, token: string) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/yjs/${room}?token=${token}`, { perMessageDeflate: false });
  const received: YMessage[] = [];
  // A refused upgrade or a dropped connection closes with 1006 and no reason: the error says why.
  let error = '';
  ws.on('error', (err) => {
    error = err.message;
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: String(reason) || error })),
  );
  ws.on('message', (data) => {
    const r = decodeMessage(new Uint8Array(data as Buffer));
    if (r.ok) received.push(r.message);
  });
  return { ws, received, closed };
}

/**
 * A market of PETR4 alone with nothing behind it (no database, no store, nothing published):
 * for tests and benches of the market's own logic; `deps` replaces what the case needs.
 */
export function petr4Market(deps: Partial<MarketServiceDeps> = {}): MarketService {
  return new MarketService({
    tickers: [{ ticker: 'PETR4', exchange: 'B' }],
    ringCapacity: 10_000,
    maxReplay: 100_000,
    history: { range: async () => [] },
    head: () => 0,
    store: () => {},
    deadLetter: () => {},
    publish: () => true,
    status: () => ({ login: 0, routing: null, marketData: 4, activation: 0, connected: true }),
    log: createLogger('silent'),
    ...deps,
  });
}

/** The server's /metrics text, read as a Prometheus scraper does (with the scrape token). */
export async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status} ${await res.text()}`);
  return res.text();
}

/** One sample family in Prometheus text: each line's label set (`{…}`, or '') and its finite value. */
function samplesOf(text: string, name: string): { labels: string; value: number }[] {
  const out: { labels: string; value: number }[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    const value = Number(m?.[3]);
    if (m?.[1] === name && Number.isFinite(value)) out.push({ labels: m[2] ?? '', value });
  }
  return out;
}

/** Sum of a sample family in /metrics text, optionally only the lines whose labels contain `labels`. */
export const sampleSum = (text: string, name: string, labels = ''): number =>
  samplesOf(text, name).reduce((sum, s) => (s.labels.includes(labels) ? sum + s.value : sum), 0);

/** A labelled family's non-zero samples in /metrics text, keyed by their label values joined by spaces. */
export function sampleValues(text: string, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { labels, value } of samplesOf(text, name)) {
    if (value !== 0) out[[...labels.matchAll(/="([^"]*)"/g)].map((m) => m[1]).join(' ')] = value;
  }
  return out;
}

/** Sum of a sample family on the server's /metrics now (see sampleSum). */
export async function metric(url: string, name: string, labels = ''): Promise<number> {
  return sampleSum(await scrape(url), name, labels);
}
