// Ingest rows/s: the production batched write (one unnest INSERT per batch of 5,000, through the
// TickWriter) against its peers in one process run: COPY FROM STDIN batches (PostgreSQL only;
// what Tape used before) and row-at-a-time INSERTs, on both backends.
// Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/ingest.bench.ts

import { createLogger } from '../sync-server/log.ts';
import { DEFAULT_WRITER, type TickSink, TickWriter } from '../sync-server/market/writer.ts';
import type { Trade } from '../sync-server/shared/market.ts';
import type { Database } from '../sync-server/store/db.ts';
import { testBackends } from '../sync-server/store/testing.ts';
import { TickStore } from '../sync-server/store/ticks.ts';
import { sampleTrade } from '../sync-server/testing/market.ts';

const BATCH = 5_000;
const BATCHES = Number(process.env.BENCH_BATCHES ?? 20);
const ROWS_SINGLE = Number(process.env.BENCH_SINGLE_ROWS ?? 3_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

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

/** The peer: each batch streamed with COPY FROM STDIN on a reserved connection. */
function copySink(db: Database): TickSink {
  const columns =
    'ticker, seq, time, price, qty, trade_number, buy_agent, sell_agent, trade_type, flags, captured_ms';
  return {
    async insert(trades) {
      const text = trades
        .map(
          (t) =>
            `${t.ticker}\t${t.seq}\t${new Date(t.time).toISOString()}\t${t.price}\t${t.qty}\t${t.tradeNumber}\t${t.buyAgent}\t${t.sellAgent}\t${t.tradeType}\t${t.flags}\t${t.capturedAt}\n`,
        )
        .join('');
      const conn = await db.sql.reserve();
      try {
        const stream = await conn.unsafe(`copy ticks (${columns}) from stdin`).writable();
        await new Promise<void>((resolve, reject) => {
          stream.on('error', reject);
          stream.on('finish', resolve);
          stream.end(text);
        });
      } finally {
        conn.release();
      }
    },
  };
}

/** Rows/s of BATCHES batches of BATCH trades through the TickWriter into `sink`. */
async function throughWriter(sink: TickSink, concurrency: number): Promise<number> {
  const batches = Array.from({ length: BATCHES }, () => makeTrades(BATCH));
  const writer = new TickWriter(sink, () => {}, createLogger('silent'), { ...DEFAULT_WRITER, concurrency });
  const t0 = performance.now();
  for (const b of batches) writer.write(b);
  await writer.flush(600_000);
  return (BATCH * BATCHES) / ((performance.now() - t0) / 1000);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const fmt = (n: number) => Math.round(n).toLocaleString('en');

const rows: string[] = ['| backend | method | rows | rows/s (median of rounds) |', '|---|---|---|---|'];
const ratios: string[] = [];
for (const backend of testBackends()) {
  const db = await backend.open();
  const store = new TickStore(db);
  await store.insert(makeTrades(10)); // creates today's partition outside the timing
  // The production settings: two batches at once on PostgreSQL, one on PGlite (server.ts).
  const concurrency = db.backend === 'postgres' ? 2 : 1;
  const peers: [string, TickSink][] = [[`unnest INSERT (Tape), ${concurrency} at once`, store]];
  if (db.backend === 'postgres') peers.push([`COPY FROM STDIN, ${concurrency} at once`, copySink(db)]);
  // Rounds alternate the peers, so a slow spell of the machine does not fall on one of them.
  const results = new Map<string, number[]>(peers.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++)
    for (const [name, sink] of peers) results.get(name)?.push(await throughWriter(sink, concurrency));
  const single = makeTrades(ROWS_SINGLE);
  const t0 = performance.now();
  await store.insertRows(single);
  const perRow = ROWS_SINGLE / ((performance.now() - t0) / 1000);
  for (const [name, xs] of results)
    rows.push(
      `| ${backend.name} | ${name}, batches of ${BATCH} | ${BATCH * BATCHES} × ${ROUNDS} | ${fmt(median(xs))} |`,
    );
  rows.push(`| ${backend.name} | one INSERT per row | ${ROWS_SINGLE} | ${fmt(perRow)} |`);
  const tape = median(results.get(peers[0]?.[0] as string) ?? []);
  ratios.push(`${backend.name}: Tape batched / per-row = ${(tape / perRow).toFixed(1)}×`);
  const copy = results.get(peers[1]?.[0] as string);
  if (copy) ratios.push(`${backend.name}: Tape batched / COPY = ${(tape / median(copy)).toFixed(2)}×`);
  await db.close();
}
console.log(rows.join('\n'));
console.log(ratios.join('\n'));
