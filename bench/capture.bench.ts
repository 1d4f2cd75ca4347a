// Capture: a simulator burst → the capture shim's C callbacks → lock-free ring → JS drains it in
// batches (one koffi call per 8,192 records, decoded into RawEvents), against the same burst
// through a koffi-registered JS trade callback (one blocking foreign-thread call per trade), in
// one process run. Not part of `npm test`.
// Run: npx tsx bench/capture.bench.ts
import { cpus } from 'node:os';
import { defaultLibraryPaths, ProfitConnector } from '../native/profitdll.ts';
import { RECORD_BYTES } from '../native/records.ts';
import { collect, connectSimulator, isConnected, sleep, statesOf } from '../native/testkit.ts';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const JS_EVENTS = Number(process.env.BENCH_JS_EVENTS ?? 200_000);
const JS_MAX_MS = 15_000;
// Holds a whole burst (256 MiB): the simulator thread can outrun the decoder for a moment, and
// this measures throughput, not how much a smaller ring would drop.
const RING = 1 << 20;
const TICKERS = [
  ['PETR4', 'B'],
  ['VALE3', 'B'],
  ['ITUB4', 'B'],
  ['BBDC4', 'B'],
  ['WINZ25', 'F'],
  ['WDOZ25', 'F'],
] as const;

interface Result {
  readonly events: number;
  readonly dropped: number;
  readonly seconds: number;
}

const median = (rs: Result[]) =>
  [...rs].sort((a, b) => a.events / a.seconds - b.events / b.seconds)[Math.floor(rs.length / 2)] as Result;

/** One burst, drained on this thread while the simulator thread produces it. */
async function shimRound(c: ProfitConnector, events: number, decode: boolean): Promise<Result> {
  const sim = c.sim;
  if (!sim) throw new Error('the simulator library is required');
  const raw = Buffer.alloc(8192 * RECORD_BYTES);
  const dropped0 = c.dropped();
  let received = 0;
  const t0 = performance.now();
  sim.burst(events);
  while (received + Number(c.dropped() - dropped0) < events) {
    if (decode) {
      for (const e of c.drain()) if (e.kind === 'trade') received++;
    } else received += c.drainInto(raw, 8192);
  }
  const seconds = (performance.now() - t0) / 1000;
  await sim.waitBurst();
  return { events: received, dropped: Number(c.dropped() - dropped0), seconds };
}

async function shimPath() {
  const { connector } = await connectSimulator({ ringCapacity: RING });
  for (const [t, e] of TICKERS) connector.subscribeTicker(t, e);
  await sleep(20);
  connector.drain();
  await shimRound(connector, RING, true); // JIT warm-up, and every ring page touched once
  const decoded: Result[] = [];
  const raw: Result[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    decoded.push(await shimRound(connector, EVENTS, true));
    raw.push(await shimRound(connector, EVENTS, false));
  }
  connector.finalize();
  return { decoded: median(decoded), raw: median(raw) };
}

async function jsCallbackPath(): Promise<Result> {
  const connector = ProfitConnector.open(defaultLibraryPaths());
  const sim = connector.sim;
  if (!sim) throw new Error('the simulator library is required');
  sim.setRate(0);
  let received = 0;
  connector.loginWithJsTradeCallback('bench', 'bench', 'bench', () => {
    received++;
  });
  await collect(connector, (ev) => isConnected(statesOf(ev), false), 'the connected states');
  for (const [t, e] of TICKERS) connector.subscribeTicker(t, e);
  await sleep(20);
  const t0 = performance.now();
  sim.burst(JS_EVENTS);
  while (received < JS_EVENTS && performance.now() - t0 < JS_MAX_MS) await sleep(1);
  const seconds = (performance.now() - t0) / 1000;
  const events = received;
  // Stop the rest of a cut-short burst, and let queued calls run before DLLFinalize joins the thread.
  for (const [t, e] of TICKERS) connector.unsubscribeTicker(t, e);
  await sim.waitBurst();
  await sleep(50);
  connector.finalize();
  return { events, dropped: 0, seconds };
}

const rate = (r: Result) => r.events / r.seconds;
const fmt = (n: number) => Math.round(n).toLocaleString('en');

const shim = await shimPath();
const perEvent = await jsCallbackPath();
const rows = [
  '| path | trades received | dropped | seconds | trades/s |',
  '|---|---:|---:|---:|---:|',
  ...(
    [
      ['capture shim → ring → `drain()` decoded to RawEvents, batches of 8,192', shim.decoded],
      ['capture shim → ring → `drainInto()` raw records, batches of 8,192', shim.raw],
      ['koffi-registered JS callback per trade (foreign thread)', perEvent],
    ] as const
  ).map(
    ([path, r]) =>
      `| ${path} | ${fmt(r.events)} | ${fmt(r.dropped)} | ${r.seconds.toFixed(3)} | ${fmt(rate(r))} |`,
  ),
];
console.log(
  `\nCapture throughput: simulator bursts over ${TICKERS.length} tickers, median of ${ROUNDS} rounds of ${fmt(EVENTS)} ` +
    `(ring ${fmt(RING)} records); ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}\n`,
);
console.log(rows.join('\n'));
console.log(
  `\nBatched drain with decoding: ${(rate(shim.decoded) / rate(perEvent)).toFixed(1)}× the per-event JS callback ` +
    `(goal ≥ 1,000,000 trades/s and ≥ 25×).`,
);
