// The session backfill at scale (issue 17): 6 tickers, 50,000 history trades each (the
// simulator's SimSetHistoryTrades), asked, deduplicated, stored and fanned out while the
// simulator trades live. Two servers in this one process run, side by side: one that backfills
// and one that does not, each with a client that asks the server something every 20 ms (a REST
// round trip) and the server's own event-loop delay, so the cost of the fill on everyone else
// reads as a ratio. The simulator's clock is set to 17:59 Brasília of the last weekday, so
// "today so far" is the whole session whenever this runs.
// Run: npx tsx bench/backfill.bench.ts   (DATABASE_URL set: PostgreSQL instead of PGlite)
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { defaultLibraryPaths, ProfitConnector } from '../native/profitdll.ts';
import { b3Day } from '../sync-server/shared/market.ts';
import { metric } from '../sync-server/testing/metrics.ts';
import { login, startTestServer } from '../sync-server/testing/server.ts';
import { until } from '../sync-server/testing/until.ts';

const PER_TICKER = Number(process.env.BENCH_HISTORY ?? 50_000);
const LIVE_RATE = Number(process.env.BENCH_RATE ?? 50); // live trades/s per ticker meanwhile
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const TICKERS = 'PETR4:B,VALE3:B,ITUB4:B,BBDC4:B,WINZ25:F,WDOZ25:F';

/** 17:59 in Brasília of the last weekday whose 17:59 has passed. */
function lastSessionEnd(): number {
  for (let day = b3Day(Date.now()); ; day--) {
    const weekday = (((day + 4) % 7) + 7) % 7; // 0 Sunday (day 0 was a Thursday)
    const at = day * DAY_MS + 3 * HOUR_MS + 17.98 * HOUR_MS;
    if (weekday !== 0 && weekday !== 6 && at < Date.now()) return at;
  }
}

const controls = ProfitConnector.open(defaultLibraryPaths()).sim;
if (!controls) throw new Error('the simulator library is required: npm run build:native');
const sim = controls;
const backend = process.env.DATABASE_URL ? 'postgres' : 'pglite';
const q = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? Number.NaN;

interface Run {
  fillMs: number;
  historyTrades: number;
  /** Dead letters of the run: ring_overflow would be trades lost. */
  letters: number;
  rtt: number[];
  loop: { p50: number; p99: number; max: number };
}

async function run(backfill: boolean): Promise<Run> {
  sim.setClock(new Date(lastSessionEnd()));
  sim.setHistoryTrades(PER_TICKER);
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const t = await startTestServer(backend, {
    TAPE_BACKFILL: backfill ? 'on' : 'off',
    TAPE_SIM_RATE: String(LIVE_RATE),
    TAPE_TICKERS: TICKERS,
  });
  const started = performance.now();
  loop.enable();
  const token = await login(t.url);
  const rtt: number[] = [];
  let asking = true;
  const asker = (async () => {
    while (asking) {
      const at = performance.now();
      const res = await fetch(`${t.url}/api/v1/market/quotes`, {
        headers: { authorization: `Bearer ${token}` },
      });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`quotes: ${res.status}`);
      rtt.push(performance.now() - at);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const tickers = t.server.market.tickerList;
  let fillMs = 0;
  if (backfill) {
    const progress = setInterval(() => {
      const s = tickers.map((x) => {
        const b = t.server.market.backfillStatus(x);
        return `${x} ${b ? `${b.state} ${b.percent}% ${b.trades}` : '…'}`;
      });
      process.stderr.write(`\r${s.join(' | ')}`);
    }, 1000);
    await until(
      () => tickers.every((x) => (t.server.market.backfillStatus(x)?.state ?? 'filling') !== 'filling'),
      'every ticker past its history',
      120_000,
    );
    clearInterval(progress);
    process.stderr.write('\n');
    fillMs = performance.now() - started;
    const failed = tickers.filter((x) => t.server.market.backfillStatus(x)?.state !== 'live');
    if (failed.length) throw new Error(`backfill failed: ${failed.join(', ')}`);
  } else await new Promise((r) => setTimeout(r, 6_000));
  asking = false;
  await asker;
  loop.disable();
  const historyTrades = tickers.reduce((n, x) => n + (t.server.market.backfillStatus(x)?.trades ?? 0), 0);
  const letters = await metric(t.url, 'tape_dead_letters_total');
  await t.close();
  rtt.sort((a, b) => a - b);
  return {
    fillMs,
    historyTrades,
    letters,
    rtt,
    loop: { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
  };
}

const without = await run(false);
const withFill = await run(true);
sim.setClock();
const ms = (x: number) => `${x.toFixed(1)} ms`;
const line = (name: string, r: Run) =>
  `${name.padEnd(16)} ${r.letters} dead letters, REST p50 ${ms(q(r.rtt, 0.5))}  p99 ${ms(q(r.rtt, 0.99))}  max ${ms(r.rtt.at(-1) ?? 0)}  (${r.rtt.length} asks)  event loop p99 ${ms(r.loop.p99)}  max ${ms(r.loop.max)}`;
console.log(
  `backend ${backend}, 6 tickers, ${PER_TICKER.toLocaleString('en')} history trades each asked, ${LIVE_RATE} live trades/s per ticker`,
);
console.log(
  `backfill: ${withFill.historyTrades.toLocaleString('en')} history trades stored and live in ${(withFill.fillMs / 1000).toFixed(2)} s (${Math.round(withFill.historyTrades / (withFill.fillMs / 1000)).toLocaleString('en')} trades/s)`,
);
console.log(line('no backfill', without));
console.log(line('during backfill', withFill));
console.log(
  `ratio during/without: REST p99 ${(q(withFill.rtt, 0.99) / q(without.rtt, 0.99)).toFixed(2)}×, event loop p99 ${(withFill.loop.p99 / without.loop.p99).toFixed(2)}×`,
);
process.exit(0);
