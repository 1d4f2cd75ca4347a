// Fan-out: captured trades → Tape's market path (MarketService → uWS topic publish, the real
// /ws endpoint) to 100 loopback subscribers, against a `ws`-package relay that sends the same
// frames to the same 100 subscribers, in one run. Subscribers live in child processes that
// only parse frame headers. Closed loop: the publisher keeps a bounded window in flight.
// Run: npx tsx bench/fanout.bench.ts
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { listen } from '../sync-server/http/uws.ts';
import { createLogger } from '../sync-server/log.ts';
import { marketEndpoint } from '../sync-server/market/session.ts';
import { createMetrics } from '../sync-server/metrics.ts';
import { instrumentFor } from '../sync-server/shared/instruments.ts';
import { encodeTrades, type Trade } from '../sync-server/shared/market.ts';
import { petr4Market, sampleTrade } from '../sync-server/testing/market.ts';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 100);
const PER_FRAME = Number(process.env.BENCH_PER_FRAME ?? 10);
const FRAMES = Number(process.env.BENCH_FRAMES ?? 20_000);
const WINDOW = 200;
const log = createLogger('silent');
const instrument = instrumentFor('PETR4', 'B');
if (!instrument) throw new Error('PETR4 rules missing');

let seq = 0;
const batch = (): Trade[] =>
  Array.from({ length: PER_FRAME }, () => sampleTrade(++seq, { time: Date.now(), capturedAt: Date.now() }));

async function clients(port: number, path: string, subscribe?: string) {
  const procs: ChildProcess[] = [];
  const counts: number[] = [];
  const half = Math.ceil(CLIENTS / 2);
  for (let i = 0; i < 2; i++) {
    const n = i === 0 ? half : CLIENTS - half;
    const child = fork(
      fileURLToPath(new URL('./wsCounter.ts', import.meta.url)),
      [String(port), path, String(n), subscribe ?? ''],
      {
        execArgv: ['--import', 'tsx'],
      },
    );
    counts.push(0);
    await new Promise<void>((resolve) => {
      child.on('message', (m: { connected?: number; binaryFrames?: number }) => {
        if (m.connected !== undefined) resolve();
        if (m.binaryFrames !== undefined) counts[i] = m.binaryFrames;
      });
    });
    procs.push(child);
  }
  return {
    delivered: () => counts.reduce((a, b) => a + b, 0),
    stop: () => {
      for (const p of procs) p.send('exit');
    },
  };
}

/** Publishes FRAMES frames, never more than WINDOW ahead of the slowest half of the receivers. */
async function drive(publish: () => void, delivered: () => number) {
  const start = performance.now();
  for (let sent = 0; sent < FRAMES; ) {
    while (sent - delivered() / CLIENTS < WINDOW && sent < FRAMES) {
      publish();
      sent++;
    }
    await new Promise((r) => setImmediate(r));
  }
  while (delivered() < FRAMES * CLIENTS) await new Promise((r) => setTimeout(r, 1));
  return (FRAMES * PER_FRAME * CLIENTS) / ((performance.now() - start) / 1000);
}

async function tape(): Promise<number> {
  let publish: (topic: string, m: Uint8Array | string) => boolean = () => false;
  const market = petr4Market({ publish: (t, m) => publish(t, m) });
  const principal = {
    userId: 1,
    username: 'bench',
    role: 'viewer' as const,
    expiresAt: Date.now() + 3_600_000,
  };
  const endpoint = marketEndpoint({ market, verify: () => principal, onClientError: () => {} });
  const server = await listen('127.0.0.1', 0, {
    log,
    metrics: createMetrics(),
    routes: [],
    staticFiles: undefined,
    ws: [endpoint],
    authenticate: () => principal,
    authenticateSocket: () => principal,
  });
  publish = server.publish;
  const c = await clients(
    server.port,
    '/ws?token=x',
    JSON.stringify({ type: 'sub', channel: 'trades', tickers: ['PETR4'] }),
  );
  await new Promise((r) => setTimeout(r, 300));
  const rate = await drive(
    () => market.trades(instrument as NonNullable<typeof instrument>, batch()),
    c.delivered,
  );
  c.stop();
  endpoint.stop();
  server.close();
  return rate;
}

async function wsRelay(): Promise<number> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((r) => wss.once('listening', r));
  const port = (wss.address() as { port: number }).port;
  const c = await clients(port, '/');
  const rate = await drive(() => {
    const frame = encodeTrades('PETR4', batch());
    for (const ws of wss.clients) ws.send(frame, { binary: true });
  }, c.delivered);
  c.stop();
  await new Promise((r) => wss.close(r));
  return rate;
}

const t = await tape();
const w = await wsRelay();
const fmt = (n: number) => Math.round(n).toLocaleString('en');
console.log(`| server | subscribers | events per frame | delivered events/s |\n|---|---|---|---|`);
console.log(`| Tape (uWS topics) | ${CLIENTS} | ${PER_FRAME} | ${fmt(t)} |`);
console.log(`| ws relay | ${CLIENTS} | ${PER_FRAME} | ${fmt(w)} |`);
console.log(`Tape / ws = ${(t / w).toFixed(2)}×`);
process.exit(0);
