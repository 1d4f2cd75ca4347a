// Ingest rows/s: batched writes (COPY on PostgreSQL, unnest INSERT on PGlite) against
// row-at-a-time INSERTs, on both backends, in one process run.
// Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/ingest.bench.ts

import { createLogger } from '../sync-server/log.ts';
import { sampleTrade, type Trade } from '../sync-server/market/protocol.ts';
import { DEFAULT_WRITER, TickWriter } from '../sync-server/market/writer.ts';
import { testBackends } from '../sync-server/store/testing.ts';
import { TickStore } from '../sync-server/store/ticks.ts';

const BATCH = 5_000;
const BATCHES = Number(process.env.BENCH_BATCHES ?? 20);
const ROWS_SINGLE = Number(process.env.BENCH_SINGLE_ROWS ?? 3_000);

let seq = 0;
const makeTrades = (n: number): Trade[] =>
  Array.from({ length: n }, () => {
    seq++;
    return sampleTrade(seq, {
      time: Date.now(),
      price: 38 + (seq % 100) / 100,
      capturedAt: Date.now() + 0.123,
    });
  });

const rows: string[] = ['| backend | method | rows | rows/s |', '|---|---|---|---|'];
const ratios: string[] = [];
for (const backend of testBackends()) {
  const db = await backend.open();
  const store = new TickStore(db);
  await store.insert(makeTrades(10)); // creates today's partition outside the timing
  const batches = Array.from({ length: BATCHES }, () => makeTrades(BATCH));
  // The production path: the TickWriter, two COPY streams at once on PostgreSQL.
  const writer = new TickWriter(store, () => {}, createLogger('silent'), {
    ...DEFAULT_WRITER,
    concurrency: db.backend === 'postgres' ? 2 : 1,
  });
  let t0 = performance.now();
  for (const b of batches) writer.write(b);
  await writer.flush(600_000);
  const batched = (BATCH * BATCHES) / ((performance.now() - t0) / 1000);
  const single = makeTrades(ROWS_SINGLE);
  t0 = performance.now();
  await store.insertRows(single);
  const perRow = ROWS_SINGLE / ((performance.now() - t0) / 1000);
  const method =
    db.backend === 'postgres' ? 'COPY, batches of 5,000, 2 streams' : 'unnest INSERT, batches of 5,000';
  rows.push(
    `| ${backend.name} | ${method} | ${BATCH * BATCHES} | ${Math.round(batched).toLocaleString('en')} |`,
  );
  rows.push(
    `| ${backend.name} | one INSERT per row | ${ROWS_SINGLE} | ${Math.round(perRow).toLocaleString('en')} |`,
  );
  ratios.push(`${backend.name}: batched / per-row = ${(batched / perRow).toFixed(1)}×`);
  await db.close();
}
console.log(rows.join('\n'));
console.log(ratios.join('\n'));
