// Soak: the whole server in its own process under every kind of load at once, for 10 minutes
// by default — market WebSocket clients, orders over REST, shared-watchlist editors — with the
// server's memory, CPU and event-loop lag sampled from /metrics, and the load generator's own
// lag and CPU beside them. Prints a table over time and a summary; exits 1 on any error or on
// heap growth after the warm-up. The CI version (60 s) is faults/soak.test.ts.
// Run: npx tsx bench/soak.bench.ts (DATABASE_URL set: a scratch PostgreSQL database, else PGlite;
// REDIS_URL set: the Yjs bus on Redis). Knobs: BENCH_SECONDS, BENCH_SAMPLE_SECONDS, BENCH_CLIENTS,
// BENCH_RATE, BENCH_TICKERS_PER_CLIENT, BENCH_ORDERS, BENCH_TRADERS, BENCH_EDITORS, BENCH_ROOMS,
// BENCH_EDIT_RATE; BENCH_PROBES_FILE=<path> writes the 1 s memory probes and the rows as JSON,
// BENCH_SERVER_LOG=<path> the server's own log.
import { writeFileSync } from 'node:fs';
import { formatSummary } from './soak/format.ts';
import { SOAK_DEFAULTS } from './soak/model.ts';
import { runSoak } from './soak.ts';

const num = (name: string, fallback: number) => {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, not ${v}`);
  return n;
};

// Ctrl-C ends the load early: the checks, the summary and the clean-up (the server process, the
// scratch database) still run. A second Ctrl-C exits at once.
const stop = new AbortController();
process.on('SIGINT', () => {
  if (stop.signal.aborted) process.exit(130);
  console.log('stopping early: checks and clean-up follow (Ctrl-C again to exit now)');
  stop.abort();
});

const report = await runSoak({
  ...SOAK_DEFAULTS,
  signal: stop.signal,
  serverLogFile: process.env.BENCH_SERVER_LOG || undefined,
  seconds: num('BENCH_SECONDS', SOAK_DEFAULTS.seconds),
  sampleSeconds: num('BENCH_SAMPLE_SECONDS', SOAK_DEFAULTS.sampleSeconds),
  clients: num('BENCH_CLIENTS', SOAK_DEFAULTS.clients),
  rate: num('BENCH_RATE', SOAK_DEFAULTS.rate),
  tickersPerClient: num('BENCH_TICKERS_PER_CLIENT', SOAK_DEFAULTS.tickersPerClient),
  ordersPerSecond: num('BENCH_ORDERS', SOAK_DEFAULTS.ordersPerSecond),
  traders: num('BENCH_TRADERS', SOAK_DEFAULTS.traders),
  editors: num('BENCH_EDITORS', SOAK_DEFAULTS.editors),
  rooms: num('BENCH_ROOMS', SOAK_DEFAULTS.rooms),
  editsPerSecond: num('BENCH_EDIT_RATE', SOAK_DEFAULTS.editsPerSecond),
});
console.log(formatSummary(report));
if (process.env.BENCH_PROBES_FILE)
  writeFileSync(
    process.env.BENCH_PROBES_FILE,
    JSON.stringify({ probes: report.probes, samples: report.samples }),
  );
process.exit(report.errorCount === 0 && report.heap.ok ? 0 : 1);
