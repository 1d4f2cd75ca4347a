// End-to-end latency: native capture stamp (the C shim, on the DLL's thread) → trade decoded by
// a subscriber, through the whole real server (simulator via koffi, capture, fan-out over uWS,
// storage in PGlite on its worker thread). 20,000 events/s over 6 tickers, 50 subscribers in
// a child process. Run: npx tsx bench/latency.bench.ts
import { fork } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { MAX_ALERTS_PER_USER } from '../sync-server/shared/alerts.ts';
import { sampleSum, scrape } from '../sync-server/testing/metrics.ts';
import { login, startTestServer } from '../sync-server/testing/server.ts';
import { until } from '../sync-server/testing/until.ts';

const RATE = Number(process.env.BENCH_RATE ?? 20_000);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const TICKERS = 6;
/** BENCH_ALERTS=10000: the users' alerts, evaluated in alternate windows (ROUNDS of each). */
const ALERTS = Number(process.env.BENCH_ALERTS ?? 0);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** Their levels within ±SPREAD of the last price (a day's range), repeating after COOLDOWN_S (the default 300 s). */
const SPREAD = Number(process.env.BENCH_ALERT_SPREAD ?? 0.05);
const COOLDOWN_S = Number(process.env.BENCH_ALERT_COOLDOWN ?? 300);

const backend = process.env.DATABASE_URL ? 'postgres' : 'pglite';
const t = await startTestServer(backend, { TAPE_SIM_RATE: String(RATE / TICKERS) });
const token = await login(t.url);
await until(() => t.server.feed.status.connected, 'connector');
/**
 * `n` alerts of 200-alert users over the six tickers: price levels within ±SPREAD of the last
 * price, changes of +0.5 to +0.9 %, volumes just ahead; each repeats after COOLDOWN_S.
 */
async function makeAlerts(n: number): Promise<number> {
  let made = 0;
  let tries = 0;
  for (let u = 0; made < n; u++) {
    const res = await fetch(`${t.url}/api/v1/users`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        username: `bench-alerts-${u}`,
        password: 'bench-alerts-password',
        role: 'trader',
      }),
    });
    const { user } = (await res.json()) as { user: { userId: number } };
    for (let i = 0; i < MAX_ALERTS_PER_USER && made < n; i++) {
      tries++;
      const ticker = t.server.market.tickerList[tries % TICKERS] as string;
      const q = t.server.market.quote(ticker);
      if (!q) throw new Error(`no quote of ${ticker} yet`);
      const k = tries % 10;
      const away = 0.0005 + (((tries * 7919) % 1000) / 1000) * SPREAD;
      const kind = k < 4 ? 'price_above' : k < 8 ? 'price_below' : k === 8 ? 'change_above' : 'volume_above';
      const threshold =
        kind === 'price_above'
          ? q.last * (1 + away)
          : kind === 'price_below'
            ? q.last * (1 - away)
            : kind === 'change_above'
              ? 0.5 + (tries % 5) / 10
              : q.volume + 10_000 + tries;
      const ok = await t.server.alerts
        .create(user.userId, {
          kind,
          ticker,
          threshold,
          repeat: true,
          cooldownS: COOLDOWN_S,
          expiry: { kind: 'never' },
        })
        .then(
          () => true,
          () => false,
        );
      if (ok) made++;
      else i--;
      if (tries > 3 * n) throw new Error(`only ${made} of ${n} alerts could be made`);
    }
  }
  return t.server.alerts.activeCount;
}
// Made before the subscribers connect: creating them is not what is measured.
if (ALERTS > 0) await makeAlerts(ALERTS);
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
/** The server's own share, each drain's capture stamp → publish of a ticker's trades, as it observes it. */
const publishDelays: number[] = [];
const feedMetrics = (t.server.feed as unknown as { metrics: { publishDelay: { observe(s: number): void } } })
  .metrics;
const observe = feedMetrics.publishDelay.observe.bind(feedMetrics.publishDelay);
feedMetrics.publishDelay.observe = (seconds: number) => {
  publishDelays.push(seconds * 1000);
  observe(seconds);
};

/** One window of SECONDS: the subscribers' latencies and the server's publish delays in it. */
async function measure(seconds: number) {
  publishDelays.length = 0;
  const startSeq = t.server.market.lastSeq('PETR4');
  await new Promise((r) => setTimeout(r, seconds * 1000));
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
  return { samples, publish: [...publishDelays], rate: Math.round(produced / seconds) };
}

const quantile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN;
};
const ms = (v: number) => v.toFixed(2);

if (ALERTS === 0) {
  const { samples, publish, rate } = await measure(SECONDS);
  console.log(
    `| rate (events/s) | subscribers | samples | p50 ms | p99 ms | p99.9 ms | max ms |\n|---|---|---|---|---|---|---|`,
  );
  console.log(
    `| ~${rate.toLocaleString('en')} | ${CLIENTS} | ${samples.length.toLocaleString('en')} | ${ms(quantile(samples, 0.5))} | ${ms(quantile(samples, 0.99))} | ${ms(quantile(samples, 0.999))} | ${ms(samples.reduce((a, b) => Math.max(a, b), 0))} |`,
  );
  const within5 = publish.filter((d) => d <= 5).length;
  console.log(
    `server share (capture stamp → publish, ${publish.length.toLocaleString('en')} ticker drains): p50 ${ms(quantile(publish, 0.5))} ms, p99 ${ms(quantile(publish, 0.99))} ms, ${((100 * within5) / Math.max(1, publish.length)).toFixed(2)} % within 5 ms`,
  );
} else {
  // The same server, its alerts' evaluation switched off and on in alternate windows, so drift
  // over the run (the machine, the database's growth) falls on both sides alike.
  const alerts = t.server.alerts.activeCount;
  // Preallocated: a growing array's copies would be the bench's own stalls.
  const evalTimes = new Float64Array(4_000_000);
  let evals = 0;
  const watch = {
    watches: (ticker: string) => t.server.alerts.watches(ticker),
    trades: (...args: Parameters<typeof t.server.alerts.trades>) => {
      const from = performance.now();
      if (!process.env.BENCH_NOEVAL) t.server.alerts.trades(...args);
      if (evals < evalTimes.length) evalTimes[evals++] = performance.now() - from;
    },
  };
  const idle = { watches: () => false, trades: () => {} };
  // Window i's samples are those between the child's marks i and i + 1, asked for once at the end.
  const windows: { on: boolean; publishFrom: number }[] = [];
  publishDelays.length = 0;
  // Each round's two windows in an order of their own (a fixed-seed draw): a task of the server's
  // with a period of two windows (the expiry sweep, a GC rhythm) falls on both sides alike.
  let seed = 7;
  const coin = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed % 2 === 0;
  };
  let firstOn = false;
  for (let i = 0; i < 2 * ROUNDS; i++) {
    if (i % 2 === 0) firstOn = coin();
    const on = i % 2 === 0 ? firstOn : !firstOn;
    t.server.market.watchTrades(on ? watch : idle);
    child.send('mark');
    windows.push({ on, publishFrom: publishDelays.length });
    await new Promise((r) => setTimeout(r, (SECONDS * 1000) / (2 * ROUNDS)));
  }
  child.send('mark');
  const publishTo = publishDelays.length;
  t.server.market.watchTrades(idle);
  const e2e = await new Promise<{ p50: number; p99: number }[]>((resolve) => {
    const on = (m: { windows?: { p50: number; p99: number }[] }) => {
      if (!m.windows) return;
      child.off('message', on);
      resolve(m.windows);
    };
    child.on('message', on);
    child.send('windows');
  });
  // Sorted once every window is over: a sort of a million samples would stall the server it measures.
  const rows = windows.map((w, i) => {
    const publish = publishDelays.slice(w.publishFrom, windows[i + 1]?.publishFrom ?? publishTo);
    return {
      on: w.on,
      p50: quantile(publish, 0.5),
      p99: quantile(publish, 0.99),
      e2e99: e2e[i]?.p99 ?? Number.NaN,
    };
  });
  // What the evaluation itself costs, each watched batch of a ticker (the on windows).
  const evaluated = [...evalTimes.subarray(0, evals)];
  console.log(
    `evaluation per watched batch: ${evals.toLocaleString('en')} batches, p50 ${ms(quantile(evaluated, 0.5))} ms, p99 ${ms(quantile(evaluated, 0.99))} ms, max ${ms(quantile(evaluated, 1))} ms`,
  );
  const fired = sampleSum(await scrape(t.url), 'tape_alert_firings_total');
  console.log(
    `${alerts.toLocaleString('en')} active alerts over ${TICKERS} tickers; ${fired} firings in the run`,
  );
  console.log(
    '| alerts | windows | publish delay p50 ms (median of windows) | p99 ms (median) | p99 per window | whole path p99 ms (median) |',
  );
  console.log('|---|---|---|---|---|---|');
  const median = (xs: number[]) => quantile(xs, 0.5);
  for (const on of [false, true]) {
    const w = rows.filter((r) => r.on === on);
    console.log(
      `| ${on ? 'on' : 'off'} | ${w.length} | ${ms(median(w.map((r) => r.p50)))} | ${ms(median(w.map((r) => r.p99)))} | ${w.map((r) => ms(r.p99)).join(' / ')} | ${ms(median(w.map((r) => r.e2e99)))} |`,
    );
  }
  const off99 = median(rows.filter((r) => !r.on).map((r) => r.p99));
  const on99 = median(rows.filter((r) => r.on).map((r) => r.p99));
  console.log(
    `publish-delay p99 change with the alerts: ${on99 - off99 >= 0 ? '+' : ''}${ms(on99 - off99)} ms (goal < 0.5 ms)`,
  );
}
console.log(
  `server event-loop delay: p50 ${(loop.percentile(50) / 1e6).toFixed(2)} ms, p99 ${(loop.percentile(99) / 1e6).toFixed(2)} ms, max ${(loop.max / 1e6).toFixed(2)} ms`,
);
loop.disable();
child.send('exit');
await t.close();
process.exit(0);
