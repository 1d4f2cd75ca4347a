// End-to-end latency: native capture stamp (the C shim, on the DLL's thread) → trade decoded by
// a subscriber, through the whole real server (simulator via koffi, capture, fan-out over uWS,
// storage in PGlite on its worker thread). 20,000 events/s over 6 tickers, 50 subscribers in
// a child process. Run: npx tsx bench/latency.bench.ts
import { fork } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { PUBLISH_DELAY_BUCKETS } from '../sync-server/metrics.ts';
import { metric } from '../sync-server/testing/metrics.ts';
import { login, startTestServer } from '../sync-server/testing/server.ts';
import { until } from '../sync-server/testing/until.ts';

const RATE = Number(process.env.BENCH_RATE ?? 20_000);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const TICKERS = 6;

const backend = process.env.DATABASE_URL ? 'postgres' : 'pglite';
const t = await startTestServer(backend, { TAPE_SIM_RATE: String(RATE / TICKERS) });
const token = await login(t.url);
await until(() => t.server.feed.status.connected, 'connector');
const sub = JSON.stringify({ type: 'sub', channel: 'trades', tickers: t.server.market.tickerList });
const child = fork(
  fileURLToPath(new URL('./wsCounter.ts', import.meta.url)),
  [String(t.server.port), `/ws?token=${token}`, String(CLIENTS), sub, 'latency'],
  {
    execArgv: ['--import', 'tsx'],
  },
);
await new Promise<void>((r) =>
  child.on('message', (m: { connected?: number }) => m.connected !== undefined && r()),
);
await new Promise((r) => setTimeout(r, 1000)); // warm-up
child.send('latencies'); // discard warm-up samples
await new Promise((r) => child.once('message', r));
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
/** The server's own share: its capture-to-publish histogram (per ticker per drain), cumulative. */
const publishBuckets = async () => {
  const buckets = new Map<number, number>();
  for (const le of PUBLISH_DELAY_BUCKETS)
    buckets.set(le, await metric(t.url, 'tape_market_publish_delay_seconds_bucket', `le="${le}"`));
  buckets.set(Number.POSITIVE_INFINITY, await metric(t.url, 'tape_market_publish_delay_seconds_count'));
  return buckets;
};
const publishBefore = await publishBuckets();
const startSeq = t.server.market.lastSeq('PETR4');
await new Promise((r) => setTimeout(r, SECONDS * 1000));
const samples = await new Promise<number[]>((resolve) => {
  const on = (m: { latencies?: number[] }) => {
    if (!m.latencies) return;
    child.off('message', on);
    resolve(m.latencies);
  };
  child.on('message', on);
  child.send('latencies');
});
const produced = (t.server.market.lastSeq('PETR4') - startSeq) * TICKERS;
samples.sort((a, b) => a - b);
const q = (p: number) =>
  (samples[Math.min(samples.length - 1, Math.floor(p * samples.length))] as number).toFixed(2);
console.log(
  `| rate (events/s) | subscribers | samples | p50 ms | p99 ms | p99.9 ms | max ms |\n|---|---|---|---|---|---|---|`,
);
console.log(
  `| ~${Math.round(produced / SECONDS).toLocaleString('en')} | ${CLIENTS} | ${samples.length.toLocaleString('en')} | ${q(0.5)} | ${q(0.99)} | ${q(0.999)} | ${(samples.at(-1) as number).toFixed(2)} |`,
);
loop.disable();
const publishAfter = await publishBuckets();
const drains = [...publishAfter].map(([le, n]) => [le, n - (publishBefore.get(le) ?? 0)] as const);
const total = drains.at(-1)?.[1] ?? 0;
const bound = (p: number) => {
  const le = drains.find(([, n]) => n >= p * total)?.[0] ?? Number.NaN;
  return Number.isFinite(le) ? `≤ ${le * 1000} ms` : 'over 1 s';
};
const within5 = drains.find(([le]) => le === 0.005)?.[1] ?? 0;
console.log(
  `server share (capture stamp → publish, ${total.toLocaleString('en')} ticker drains): p50 ${bound(0.5)}, p99 ${bound(0.99)}, ${((100 * within5) / Math.max(1, total)).toFixed(2)} % within 5 ms`,
);
console.log(
  `server event-loop delay: p50 ${(loop.percentile(50) / 1e6).toFixed(2)} ms, p99 ${(loop.percentile(99) / 1e6).toFixed(2)} ms, max ${(loop.max / 1e6).toFixed(2)} ms`,
);
child.send('exit');
await t.close();
process.exit(0);
