import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foldTrades, TIMEFRAMES } from '../shared/candles.ts';
import { emptyFlow, foldFlow } from '../shared/flow.ts';
import { applyTrades, b3Day, type Quote } from '../shared/market.ts';
import { sampleTrade } from '../testing/market.ts';
import type { Database } from './db.ts';
import { DeadLetterStore } from './deadLetters.ts';
import { testBackends } from './testing.ts';
import { TickStore } from './ticks.ts';

const T0 = Date.UTC(2026, 10, 25, 13, 0, 0);
const trade = (seq: number, price: number, time = T0 + seq * 1000, ticker = 'PETR4') =>
  sampleTrade(seq, { ticker, price, time, capturedAt: time + 0.25 });

describe.each(testBackends())('TickStore on $name', (backend) => {
  let db: Database;
  let store: TickStore;
  beforeAll(async () => {
    db = await backend.open();
    store = new TickStore(db);
  });
  afterAll(() => db?.close());

  // Shown as skipped, not passed, where the tests below cannot run.
  const TIMESCALE_SKIP = 'TimescaleDB: ticks is a hypertable, not day partitions';

  // Opens the pool's connections first, as on a running server: batches waiting for a connection
  // to open reach the database one after another and hide the race.
  const warmPool = () => Promise.all(Array.from({ length: 10 }, () => db.sql`select pg_sleep(0.05)`));

  it('writes a batch and reads a sequence range back exactly', async () => {
    const batch = Array.from({ length: 500 }, (_, i) => trade(i + 1, 38 + (i % 7) / 100));
    await store.insert(batch);
    expect(await store.range('PETR4', 10, 19)).toEqual(batch.slice(9, 19));
    expect((await store.lastSeqs()).get('PETR4')).toBe(500);
  });

  it('numbers on past trades that were dead-lettered and never stored', async () => {
    const letters = new DeadLetterStore(db.sql);
    await letters.add([
      {
        source: 'store.ticks',
        reason: 'write_buffer_overflow',
        detail: 'test',
        payload: { trades: [trade(501, 38), trade(502, 38), trade(7, 62, T0, 'ITUB4')] },
      },
      // Letters of other sources carry no numbered trades.
      { source: 'capture', reason: 'bad_price', detail: 'test', payload: { ticker: 'BBAS3', seq: 99 } },
    ]);
    const heads = await store.lastSeqs();
    expect(heads.get('PETR4')).toBe(502);
    expect(heads.get('ITUB4')).toBe(7);
    expect(heads.has('BBAS3')).toBe(false);
    await db.sql`delete from dead_letters`;
  });

  it('puts each day in its own partition and keeps rows already in the default one', async ({ skip }) => {
    skip(db.timescale, TIMESCALE_SKIP);
    const nextDay = T0 + 86_400_000;
    // A row lands in the default partition first (written by another path), then its day is created.
    await db.sql`insert into ticks_default (ticker, seq, time, price, qty, trade_number, buy_agent, sell_agent, trade_type, flags, captured_ms)
      values ('VALE3', 1, ${new Date(nextDay)}, 62, 100, 1, 1, 2, 1, 0, ${nextDay})`;
    await store.insert([trade(2, 62.01, nextDay + 1000, 'VALE3')]);
    const parts = await db.sql<{ relname: string }[]>`
      select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'ticks'::regclass order by 1`;
    expect(parts.map((p) => p.relname)).toEqual(['ticks_20261125', 'ticks_20261126', 'ticks_default']);
    expect((await store.range('VALE3', 1, 2)).map((t) => t.seq)).toEqual([1, 2]);
    const [row] = await db.sql<{ n: string }[]>`select count(*) as n from ticks_default`;
    expect(Number(row?.n)).toBe(0);
  });

  it("creates a new day's partition once when batches of that day are written concurrently", async ({
    skip,
  }) => {
    skip(db.timescale, TIMESCALE_SKIP);
    // The writer keeps batches in flight side by side; on a new day they all find no partition.
    const day = Date.UTC(2026, 10, 27, 13, 0, 0);
    await warmPool();
    const batches = Array.from({ length: 8 }, (_, b) =>
      Array.from({ length: 10 }, (_, i) => trade(b * 10 + i + 1, 30, day + b * 10_000 + i, 'BBAS3')),
    );
    await Promise.all(batches.map((batch) => store.insert(batch)));
    const parts = await db.sql<{ relname: string }[]>`
      select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'ticks'::regclass and c.relname = 'ticks_20261127'`;
    expect(parts).toHaveLength(1);
    expect((await store.range('BBAS3', 1, 80)).map((t) => t.seq)).toEqual(
      Array.from({ length: 80 }, (_, i) => i + 1),
    );
  });

  it('creates the partition when another store (another process) races for it', async ({ skip }) => {
    skip(db.timescale, TIMESCALE_SKIP);
    // Each store has its own memo, so only the database can keep the two apart.
    const day = Date.UTC(2026, 10, 28, 13, 0, 0);
    await warmPool();
    const stores = Array.from({ length: 4 }, () => new TickStore(db));
    await Promise.all(stores.map((s, n) => s.insert([trade(n + 1, 25, day + n, 'ABEV3')])));
    const parts = await db.sql<{ relname: string }[]>`
      select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'ticks'::regclass and c.relname = 'ticks_20261128'`;
    expect(parts).toHaveLength(1);
    expect((await store.range('ABEV3', 1, 4)).map((t) => t.seq)).toEqual([1, 2, 3, 4]);
  });

  it("folds each ticker's stored trades of one B3 session day into its quote, as the trades themselves would", async () => {
    // B3 local time (UTC−3): the session day of 2 Dec 2026 runs from 03:00 UTC to 03:00 UTC.
    const b3 = (d: number, h: number, m = 0, sec = 0, ms = 0) => Date.UTC(2026, 11, d, h + 3, m, sec, ms);
    const mk = (ticker: string, rows: [number, number, number][]) =>
      rows.map(([time, price, qty], i) =>
        sampleTrade(i + 1, { ticker, time, price, qty, tradeNumber: 70 + i }),
      );
    const wege = mk('WEGE3', [
      [b3(1, 23, 59, 59, 999), 50, 100], // the day before
      [b3(2, 0), 51, 200], // the first of the day
      [b3(2, 10), 49.5, 300],
      [b3(2, 21, 30), 52, 400], // 00:30 UTC on the 3rd: still the 2nd in São Paulo
      [b3(2, 23, 59, 59, 999), 50.5, 500],
      [b3(3, 0), 60, 600], // the next day
    ]);
    const suzb = mk('SUZB3', [
      [b3(2, 11), 55, 100],
      [b3(2, 12), 55.1, 100],
    ]);
    const yesterdayOnly = mk('RENT3', [[b3(1, 15), 40, 100]]);
    await store.insert([...wege, ...suzb, ...yesterdayOnly]);
    const day = b3Day(b3(2, 12));
    // Any instant of the day names it: its first millisecond too.
    expect(await store.sessionQuotes(b3(2, 0))).toEqual(await store.sessionQuotes(b3(2, 23, 59, 59, 999)));
    const fold = (trades: typeof wege) => {
      const { exchange: _, ...q } = applyTrades(
        undefined,
        'B',
        trades.filter((t) => b3Day(t.time) === day),
      ) as Quote;
      return q;
    };
    const quotes = (await store.sessionQuotes(b3(2, 12))).filter((q) =>
      ['WEGE3', 'SUZB3', 'RENT3'].includes(q.ticker),
    );
    expect(quotes.sort((a, b) => a.ticker.localeCompare(b.ticker))).toEqual([fold(suzb), fold(wege)]);
    expect(quotes.find((q) => q.ticker === 'WEGE3')).toMatchObject({
      open: 51,
      last: 50.5,
      volume: 1_400,
      trades: 4,
    });
  });

  it("sums each broker's session on the ticker as the flow's fold of the same trades does", async () => {
    const b3 = (d: number, h: number) => Date.UTC(2026, 11, d, h + 3);
    const agents = [3, 85, 114, 308];
    const trades = Array.from({ length: 40 }, (_, i) =>
      sampleTrade(i + 1, {
        ticker: 'BBAS3',
        time: i < 5 ? b3(1, 15) + i : b3(2, 10) + i * 1000, // five the day before
        qty: 100 * ((i % 7) + 1),
        buyAgent: agents[i % 4] as number,
        sellAgent: agents[(i * 3 + 1) % 4] as number,
      }),
    );
    await store.insert(trades);
    const flow = await store.brokerFlow('BBAS3', b3(2, 12));
    const day = b3Day(b3(2, 12));
    expect(flow).toEqual(
      foldFlow(
        emptyFlow('BBAS3', day),
        trades.filter((t) => b3Day(t.time) === day),
      ),
    );
    expect(flow.throughSeq).toBe(40);
    const qty = trades.slice(5).reduce((n, t) => n + t.qty, 0);
    expect(flow.brokers.reduce((n, r) => n + r.bought, 0)).toBe(qty);
    expect(flow.brokers.reduce((n, r) => n + r.sold, 0)).toBe(qty);
    // A ticker with nothing stored that day: an empty flow through seq 0.
    expect(await store.brokerFlow('BBAS3', b3(3, 12))).toEqual(emptyFlow('BBAS3', day + 1));
  });

  it('rolls trades into OHLCV candles', async () => {
    const base = Date.UTC(2026, 10, 24, 13, 0, 0);
    const prices = [10, 12, 9, 11, 20, 21];
    await store.insert(prices.map((p, i) => trade(1000 + i, p, base + i * 20_000, 'ITUB4')));
    const { candles, storedThrough } = await store.candles('ITUB4', '1m', base, base + 3_600_000);
    expect(candles).toEqual([
      { time: base, open: 10, high: 12, low: 9, close: 9, volume: 300, trades: 3 },
      { time: base + 60_000, open: 11, high: 21, low: 11, close: 21, volume: 300, trades: 3 },
    ]);
    expect(storedThrough).toBe(1005);
    const hour = await store.candles('ITUB4', '60m', base, base + 3_600_000);
    expect(hour.candles).toEqual([
      { time: base, open: 10, high: 21, low: 9, close: 21, volume: 600, trades: 6 },
    ]);
    // Up to a seq: the later trades are left out, and the stored head is the last one kept.
    const part = await store.candles('ITUB4', '1m', base, base + 3_600_000, 1003);
    expect(part.candles.map((c) => [c.close, c.trades])).toEqual([
      [9, 3],
      [11, 1],
    ]);
    expect(part.storedThrough).toBe(1003);
  });

  it('makes a 1D bar of each B3 session day, Brasília midnight to midnight, equal to folding its trades', async () => {
    // 02:30 UTC is 23:30 of the day before in Brasília; 03:00 UTC starts the next B3 day.
    const midnight = Date.UTC(2026, 10, 20, 3, 0, 0);
    const times = [
      midnight - 30 * 60_000,
      midnight,
      midnight + 13 * 3_600_000,
      midnight + 86_400_000 + 60_000,
    ];
    const ts = times.map((time, i) => trade(i + 1, 30 + i, time, 'BBDC4'));
    await store.insert(ts);
    const { candles } = await store.candles('BBDC4', '1D', midnight - 86_400_000, midnight + 2 * 86_400_000);
    expect(candles.map((c) => c.time)).toEqual([midnight - 86_400_000, midnight, midnight + 86_400_000]);
    expect(candles).toEqual(foldTrades([], ts, TIMEFRAMES['1D']));
    expect(candles.map((c) => b3Day(c.time))).toEqual(
      [19, 20, 21].map((d) => b3Day(Date.UTC(2026, 10, d, 12))),
    );
  });

  it('finds a stored trade by its time, ticker, seq and trade number, and only that trade', async () => {
    const t = trade(1, 27.5, T0, 'BBAS3');
    expect(await store.contains(t)).toBe(false);
    await store.insert([t]);
    expect(await store.contains(t)).toBe(true);
    expect(await store.contains({ ...t, time: t.time + 1 })).toBe(false);
    expect(await store.contains({ ...t, ticker: 'BBDC4' })).toBe(false);
    expect(await store.contains({ ...t, seq: 2 })).toBe(false);
    expect(await store.contains({ ...t, tradeNumber: t.tradeNumber + 1 })).toBe(false);
  });
});
