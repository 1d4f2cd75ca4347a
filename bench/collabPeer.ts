// The servers of bench/collab.bench.ts, each in a process of its own (run with --expose-gc):
// Tape's whole server (startServer, as `npm start` runs it), the y-websocket reference server
// (y-websocket@2's bin/utils, as its bin/server.cjs runs it, in memory) and Hocuspocus
// (@hocuspocus/server, no extensions: in memory). Tells its port, rooms and token over IPC and
// answers 'mem' with its memory after a full GC.
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type WebSocket from 'ws';
import { WebSocketServer } from 'ws';

export type ServerKind = 'tape' | 'y-websocket' | 'hocuspocus';
export interface Started {
  readonly port: number;
  readonly rooms: string[];
  readonly token: string;
}
export interface Memory {
  readonly rss: number;
  readonly heap: number;
}

const ROOMS = Number(process.env.BENCH_ROOMS ?? 20);

async function tape(): Promise<Started> {
  const { loadConfig } = await import('../sync-server/config.ts');
  const { createLogger } = await import('../sync-server/log.ts');
  const { startServer } = await import('../sync-server/server.ts');
  const dir = mkdtempSync(join(tmpdir(), 'tape-bench-'));
  const password = 'bench-admin-password';
  const config = loadConfig({
    TAPE_HOST: '127.0.0.1',
    TAPE_PORT: '0',
    TAPE_DATA_DIR: dir,
    TAPE_STATIC_DIR: join(dir, 'none'),
    TAPE_ADMIN_PASSWORD: password,
    TAPE_LOG_LEVEL: process.env.BENCH_TAPE_LOG ?? 'warn',
    TAPE_SIM_RATE: '1',
    TAPE_YJS_RATE: '100000',
    TAPE_YJS_BURST: '100000',
    DATABASE_URL: process.env.BENCH_TAPE_DATABASE_URL,
  });
  const server = await startServer(config, createLogger(config.logLevel));
  const url = `http://127.0.0.1:${server.port}`;
  const post = async (path: string, body: unknown, token?: string) => {
    const r = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    // biome-ignore lint/suspicious/noExplicitAny: JSON replies of a known server
    return (await r.json()) as Record<string, any>;
  };
  const { accessToken } = await post('/api/v1/auth/login', { username: 'admin', password });
  const rooms: string[] = [];
  for (let i = 0; i < ROOMS; i++)
    rooms.push((await post('/api/v1/watchlists', { name: `Room ${i}` }, accessToken)).watchlist.room);
  return { port: server.port, rooms, token: accessToken };
}

async function yWebsocket(): Promise<Started> {
  const { setupWSConnection } = createRequire(import.meta.url)('y-websocket-v2/bin/utils') as {
    setupWSConnection: (ws: WebSocket, req: unknown) => void;
  };
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  wss.on('connection', (ws, req) => setupWSConnection(ws, req));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const a = http.address();
  return { port: typeof a === 'object' && a ? a.port : 0, rooms: roomNames(), token: '' };
}

async function hocuspocus(): Promise<Started> {
  const { Server } = await import('@hocuspocus/server');
  const server = new Server({ port: 0, address: '127.0.0.1', quiet: true, stopOnSignals: false });
  await server.listen();
  return { port: server.address.port, rooms: roomNames(), token: '' };
}

const roomNames = () => Array.from({ length: ROOMS }, (_, i) => `room-${i}`);

const kind = process.argv[2] as ServerKind | undefined;
if (kind) {
  const started = await (kind === 'tape' ? tape() : kind === 'y-websocket' ? yWebsocket() : hocuspocus());
  process.on('message', (m) => {
    if (m !== 'mem') return;
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    const mem: Memory = { rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed };
    process.send?.(mem);
  });
  process.send?.(started);
}
