// The start-up read of the day's totals (TickStore.sessionQuotes): one aggregate over a B3
// session day of stored ticks, on both backends, with the day before stored too (the time range
// must prune it away). Median of 5 reads, and the partitions the plan touches.
// Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/session.bench.ts
// (BENCH_ROWS: rows per day, default 500,000, over 6 tickers)

import { B3_UTC_OFFSET_MS, type Trade } from '../sync-server/shared/market.ts';
import { testBackends } from '../sync-server/store/testing.ts';
import { TickStore } from '../sync-server/store/ticks.ts';
import { sampleTrade } from '../sync-server/testing/market.ts';

const ROWS = Number(process.env.BENCH_ROWS ?? 500_000);
const TICKERS = ['PETR4', 'VALE3', 'ITUB4', 'BBDC4', 'WINZ25', 'WDOZ25'];
const DAY = 86_400_000;
// Today's session 10:00-18:00 in São Paulo, on today's date.
const today = Math.floor((Date.now() + B3_UTC_OFFSET_MS) / DAY) * DAY - B3_UTC_OFFSET_MS;
const session = 8 * 3_600_000;

/** A day of `ROWS` trades spread over the session, round-robin over the tickers. */
function day(start: number, firstSeq: number): Trade[][] {
  const batches: Trade[][] = [];
  for (let i = 0; i < ROWS; i += 5_000) {
    const batch: Trade[] = [];
    for (let j = i; j < Math.min(ROWS, i + 5_000); j++) {
      const ticker = TICKERS[j % TICKERS.length] as string;
      batch.push(
        sampleTrade(firstSeq + Math.floor(j / TICKERS.length), {
          ticker,
          time: start + 10 * 3_600_000 + Math.floor((j * session) / ROWS),
          price: 38 + (j % 97) / 100,
          qty: 100 * (1 + (j % 7)),
        }),
      );
    }
    batches.push(batch);
  }
  return batches;
}

for (const backend of testBackends()) {
  const db = await backend.open();
  const store = new TickStore(db);
  const t0 = performance.now();
  for (const b of [...day(today - DAY, 1), ...day(today, ROWS)]) await store.insert(b);
  const loadS = (performance.now() - t0) / 1000;
  await db.sql`analyze ticks`;
  const ms: number[] = [];
  let quotes = 0;
  for (let i = 0; i < 5; i++) {
    const s = performance.now();
    quotes = (await store.sessionQuotes(Date.now())).reduce((n, q) => n + q.trades, 0);
    ms.push(performance.now() - s);
  }
  ms.sort((a, b) => a - b);
  const from = new Date(today).toISOString();
  const to = new Date(today + DAY).toISOString();
  const plan = await db.sql.unsafe(
    `explain select ticker, count(*) from ticks where time >= '${from}' and time < '${to}' group by ticker`,
  );
  const partitions = [
    ...new Set(plan.map((r) => /on (ticks_\w+)/.exec(String(r['QUERY PLAN']))?.[1]).filter(Boolean)),
  ];
  console.log(
    JSON.stringify({
      backend: backend.name,
      rowsStored: 2 * ROWS,
      tradesOfToday: quotes,
      load_s: Number(loadS.toFixed(1)),
      sessionQuotes_ms: { median: Number((ms[2] as number).toFixed(1)), all: ms.map((x) => Math.round(x)) },
      partitionsScanned: partitions,
    }),
  );
  await db.close();
}
