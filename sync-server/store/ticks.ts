import type postgres from 'postgres';
import { TIMEFRAMES, type Timeframe } from '../shared/candles.ts';
import type { BrokerFlowJson } from '../shared/flow.ts';
import { B3_UTC_OFFSET_MS, b3Day, type Candle, type Quote, type Trade } from '../shared/market.ts';
import type { Database, Sql } from './db.ts';

type TickRow = {
  ticker: string;
  seq: string;
  time: Date;
  price: number;
  qty: number;
  trade_number: string;
  buy_agent: number;
  sell_agent: number;
  trade_type: number;
  flags: number;
  captured_ms: number;
};

const toTrade = (r: TickRow): Trade => ({
  ticker: r.ticker,
  seq: Number(r.seq),
  time: r.time.getTime(),
  price: r.price,
  qty: r.qty,
  tradeNumber: Number(r.trade_number),
  buyAgent: r.buy_agent,
  sellAgent: r.sell_agent,
  tradeType: r.trade_type,
  flags: r.flags,
  capturedAt: r.captured_ms,
});

const iso = (ms: number) => new Date(ms).toISOString();
const dayStart = (ms: number) => Math.floor(ms / 86_400_000) * 86_400_000;
const partitionName = (ms: number) => `ticks_${iso(ms).slice(0, 10).replaceAll('-', '')}`;

/** Where trades are kept: batched writes, replay reads and candles. */
export class TickStore {
  private readonly sql: Sql;
  /** Partition creation by day start: one in flight per day, and kept once done. */
  private readonly partitions = new Map<number, Promise<void>>();

  constructor(private readonly db: Database) {
    this.sql = db.sql;
  }

  /**
   * Writes a batch as one INSERT over unnested columns: one statement, all or nothing, on both
   * backends. PostgreSQL's COPY FROM STDIN was no faster here (benchmarks.md) and postgres.js
   * mishandles a COPY stream whose connection is cut: a stale stream or completion callback
   * outlived the connection, fired on the next query and threw outside any caller.
   */
  async insert(trades: readonly Trade[]): Promise<void> {
    if (trades.length === 0) return;
    await this.ensurePartitions(trades);
    await this.insertBatch(this.sql, trades);
  }

  /** One INSERT of the batch through `sql` (the pool, or a transaction); its partitions exist. */
  private async insertBatch(sql: Sql | postgres.TransactionSql, trades: readonly Trade[]): Promise<void> {
    // Each numeric column goes as one comma-joined text (string_to_array on the server), tickers
    // as a short list of the batch's distinct ones and an index per row. postgres.js encodes an
    // array parameter value by value on the event loop: 8–10 ms of JS per 2,000-row batch and
    // stalls up to 24 ms, against ~3 ms and ~5 ms this way (the latency p99 followed). Numbers
    // print in JS's shortest round-trip form, so float8 reads back the same double; times go as
    // epoch milliseconds (exact below 2^53), which also spares formatting an ISO string per row.
    const tickers: string[] = [];
    const index = new Map<string, number>();
    const at = (ticker: string) => {
      let i = index.get(ticker);
      if (i === undefined) {
        i = tickers.push(ticker);
        index.set(ticker, i);
      }
      return i;
    };
    const col = (f: (t: Trade) => number) => trades.map(f).join(',');
    await sql`insert into ticks (ticker, seq, time, price, qty, trade_number, buy_agent, sell_agent, trade_type, flags, captured_ms)
      select (${tickers}::text[])[k], seq, timestamptz 'epoch' + ms * interval '1 millisecond', price, qty,
        trade_number, buy_agent, sell_agent, trade_type, flags, captured_ms
      from unnest(
        string_to_array(${col((t) => at(t.ticker))}, ',')::int[],
        string_to_array(${col((t) => t.seq)}, ',')::bigint[],
        string_to_array(${col((t) => t.time)}, ',')::float8[],
        string_to_array(${col((t) => t.price)}, ',')::float8[],
        string_to_array(${col((t) => t.qty)}, ',')::int[],
        string_to_array(${col((t) => t.tradeNumber)}, ',')::bigint[],
        string_to_array(${col((t) => t.buyAgent)}, ',')::int[],
        string_to_array(${col((t) => t.sellAgent)}, ',')::int[],
        string_to_array(${col((t) => t.tradeType)}, ',')::smallint[],
        string_to_array(${col((t) => t.flags)}, ',')::smallint[],
        string_to_array(${col((t) => t.capturedAt)}, ',')::float8[])
        as u(k, seq, ms, price, qty, trade_number, buy_agent, sell_agent, trade_type, flags, captured_ms)`;
  }

  /**
   * Whether this trade is stored, looked up by time (one partition or chunk), ticker, seq and
   * trade number: the tick writer asks it of a batch's first row (a batch is one statement, all
   * or nothing) when the batch's connection was lost mid-write.
   */
  async contains(t: Trade): Promise<boolean> {
    const rows = await this.sql`select 1 from ticks where time = ${new Date(t.time)} and ticker = ${t.ticker}
      and seq = ${t.seq} and trade_number = ${t.tradeNumber} limit 1`;
    return rows.length > 0;
  }

  /**
   * Stored trades of a ticker with from ≤ time ≤ to (ms): what a backfill of that range must not
   * store again. The time range keeps the read to the blocks of the range (BRIN).
   */
  async storedTrades(
    ticker: string,
    from: number,
    to: number,
  ): Promise<{ time: number; tradeNumber: number }[]> {
    const rows = await this.sql<{ time: Date; trade_number: string }[]>`select time, trade_number from ticks
      where ticker = ${ticker} and time >= ${iso(from)} and time <= ${iso(to)}`;
    return rows.map((r) => ({ time: r.time.getTime(), tradeNumber: Number(r.trade_number) }));
  }

  /** The time of the ticker's last stored trade (its highest seq), undefined before any. */
  async lastTradeTime(ticker: string): Promise<number | undefined> {
    const [row] = await this.sql<{ time: Date }[]>`select time from ticks where ticker = ${ticker}
      order by seq desc limit 1`;
    return row?.time.getTime();
  }

  /**
   * A past B3 day's history of a ticker (the backfill CLI), in one transaction under the
   * ticker's lock: the trades the day does not hold yet (a trade is its trade number of that
   * day), in the exchange's order, numbered below the ticker's lowest seq (so never in the live
   * sequence clients replay, which runs from 1), and, when the answer was `whole`, the day
   * recorded as filled. Returns how many were added.
   */
  async storeHistoryDay(
    ticker: string,
    day: number,
    trades: readonly Trade[],
    whole = true,
  ): Promise<number> {
    const from = iso(day * 86_400_000 - B3_UTC_OFFSET_MS);
    const to = iso((day + 1) * 86_400_000 - B3_UTC_OFFSET_MS);
    await this.ensurePartitions(trades);
    return this.sql.begin(async (tx) => {
      // Two runs of the CLI on one ticker take turns: the check and the numbering see each other's rows.
      await tx`select pg_advisory_xact_lock(hashtext(${`tape.history:${ticker}`}))`;
      const held = new Set(
        (
          await tx<{ trade_number: string }[]>`select trade_number from ticks
            where ticker = ${ticker} and time >= ${from} and time < ${to}`
        ).map((r) => Number(r.trade_number)),
      );
      const fresh: Trade[] = [];
      for (const t of trades) {
        if (b3Day(t.time) !== day || held.has(t.tradeNumber)) continue;
        held.add(t.tradeNumber);
        fresh.push(t);
      }
      fresh.sort((a, b) => a.time - b.time || a.tradeNumber - b.tradeNumber);
      const [low] = await tx<
        { low: string }[]
      >`select coalesce(min(seq), 1) as low from ticks where ticker = ${ticker}`;
      const first = Number(low?.low ?? 1) - fresh.length;
      if (fresh.length > 0)
        await this.insertBatch(
          tx,
          fresh.map((t, i) => ({ ...t, seq: first + i })),
        );
      if (!whole) return fresh.length;
      await tx`insert into history_days (ticker, day, trades, added)
        values (${ticker}, ${iso(day * 86_400_000).slice(0, 10)}, ${trades.length}, ${fresh.length})
        on conflict (ticker, day) do update set trades = excluded.trades,
          added = history_days.added + excluded.added, filled_at = now()`;
      return fresh.length;
    });
  }

  /** The B3 days (day numbers) of a ticker the backfill CLI stored whole. */
  async historyDays(ticker: string): Promise<Set<number>> {
    const rows = await this.sql<
      { day: string }[]
    >`select day::text as day from history_days where ticker = ${ticker}`;
    return new Set(rows.map((r) => Date.parse(`${r.day}T00:00:00Z`) / 86_400_000));
  }

  /** Row-at-a-time INSERTs: only the benchmark's baseline. */
  async insertRows(trades: readonly Trade[]): Promise<void> {
    await this.ensurePartitions(trades);
    for (const t of trades) {
      await this
        .sql`insert into ticks (ticker, seq, time, price, qty, trade_number, buy_agent, sell_agent, trade_type, flags, captured_ms)
        values (${t.ticker}, ${t.seq}, ${iso(t.time)}, ${t.price}, ${t.qty}, ${t.tradeNumber}, ${t.buyAgent}, ${t.sellAgent},
                ${t.tradeType}, ${t.flags}, ${t.capturedAt})`;
    }
  }

  /** Daily partitions for the days in the batch (plain PostgreSQL layout only). */
  private async ensurePartitions(trades: readonly Trade[]) {
    if (this.db.timescale) return;
    // One await per day of the batch, not per trade: a batch of 5,000 is almost always one day.
    for (const from of new Set(trades.map((t) => dayStart(t.time)))) {
      let created = this.partitions.get(from);
      if (!created) {
        // Batches in flight together share one creation rather than racing each other to it.
        created = this.createPartition(partitionName(from), from, from + 86_400_000);
        this.partitions.set(from, created);
        // A failed creation is tried again by the next batch of that day.
        created.catch(() => this.partitions.delete(from));
      }
      await created;
    }
  }

  private async createPartition(name: string, from: number, to: number) {
    await this.sql.begin(async (tx) => {
      // Other processes may create the same day at once: CREATE TABLE (even IF NOT EXISTS) then
      // fails on the catalog's unique index. The lock, held until commit, makes them take turns,
      // and the check runs under it, so the later one sees the committed partition and stops.
      await tx`select pg_advisory_xact_lock(hashtext(${name}))`;
      const [exists] = await tx`select 1 from pg_class where relname = ${name}`;
      if (exists) return;
      // Rows already in the default partition for that day must move before the range can exist.
      await tx.unsafe(`create table ${name} (like ticks including defaults)`);
      await tx.unsafe(
        `with moved as (delete from ticks_default where time >= '${iso(from)}' and time < '${iso(to)}' returning *)
         insert into ${name} select * from moved`,
      );
      await tx.unsafe(
        `alter table ticks attach partition ${name} for values from ('${iso(from)}') to ('${iso(to)}')`,
      );
    });
  }

  /**
   * Highest sequence per ticker among stored trades and trades the writer dead-lettered (buffer
   * overflow, refused batches), so numbering continues after a restart and never gives a
   * dead-lettered trade's number to another trade: a redrive would then store two trades under
   * one number.
   */
  async lastSeqs(): Promise<Map<string, number>> {
    const rows = await this.sql<{ ticker: string; seq: string }[]>`
      select ticker, max(seq) as seq from (
        select ticker, max(seq) as seq from ticks group by ticker
        union all
        select t->>'ticker', max((t->>'seq')::bigint)
        from dead_letters, jsonb_array_elements(payload->'trades') t
        where source = 'store.ticks' and jsonb_typeof(payload->'trades') = 'array'
        group by 1
      ) heads group by ticker`;
    return new Map(rows.map((r) => [r.ticker, Number(r.seq)]));
  }

  /** Trades of one ticker with fromSeq ≤ seq ≤ toSeq, in order. */
  async range(ticker: string, fromSeq: number, toSeq: number): Promise<Trade[]> {
    const rows = await this.sql<TickRow[]>`select * from ticks
      where ticker = ${ticker} and seq between ${fromSeq} and ${toSeq} order by seq`;
    return rows.map(toTrade);
  }

  /**
   * Each ticker's quote as its stored trades of the B3 session day of `at` fold into it: trade
   * count, quantity, range, the first trade's price as the open, the last trade. One aggregate
   * over that day's rows (the time range prunes it to the day's partitions: a B3 day spans two
   * UTC days), then the first and last trade of each ticker by the (ticker, seq) index.
   */
  async sessionQuotes(at: number): Promise<Omit<Quote, 'exchange'>[]> {
    const day = b3Day(at);
    const from = iso(day * 86_400_000 - B3_UTC_OFFSET_MS);
    const to = iso((day + 1) * 86_400_000 - B3_UTC_OFFSET_MS);
    const rows = await this.sql<
      {
        ticker: string;
        trades: string;
        volume: string;
        turnover: number;
        high: number;
        low: number;
        open: number;
        last: number;
        seq: string;
        time: Date;
        trade_number: string;
      }[]
    >`select d.ticker, d.trades, d.volume, d.turnover, d.high, d.low, f.price as open, l.price as last, l.seq, l.time,
        l.trade_number
      from (select ticker, count(*) as trades, sum(qty) as volume,
              sum(price * qty)::float8 as turnover, max(price) as high, min(price) as low,
              min(seq) as first_seq, max(seq) as last_seq
            from ticks where time >= ${from} and time < ${to} group by ticker) d
      cross join lateral (select price from ticks where ticker = d.ticker and seq = d.first_seq
        and time >= ${from} and time < ${to} limit 1) f
      cross join lateral (select price, seq, time, trade_number from ticks where ticker = d.ticker
        and seq = d.last_seq and time >= ${from} and time < ${to} limit 1) l`;
    return rows.map((r) => ({
      ticker: r.ticker,
      seq: Number(r.seq),
      last: r.last,
      open: r.open,
      high: r.high,
      low: r.low,
      volume: Number(r.volume),
      trades: Number(r.trades),
      turnover: Number(r.turnover),
      time: r.time.getTime(),
      tradeNumber: Number(r.trade_number),
    }));
  }

  /**
   * The broker flow of the ticker's B3 session on the day of `at`, from its stored trades: per
   * broker code what it bought and sold and in how many trades, through the last stored seq.
   */
  async brokerFlow(ticker: string, at: number): Promise<BrokerFlowJson> {
    const day = b3Day(at);
    const from = iso(day * 86_400_000 - B3_UTC_OFFSET_MS);
    const to = iso((day + 1) * 86_400_000 - B3_UTC_OFFSET_MS);
    const rows = await this.sql<
      { agent: number; bought: string; sold: string; trades: string; through: string | null }[]
    >`with d as (select seq, qty, buy_agent, sell_agent from ticks
        where ticker = ${ticker} and time >= ${from} and time < ${to})
      select x.agent, sum(x.bought) as bought, sum(x.sold) as sold, sum(x.trades) as trades,
        (select max(seq) from d) as through
      from (select buy_agent as agent, qty as bought, 0 as sold, 1 as trades from d
            union all
            select sell_agent, 0, qty, case when sell_agent = buy_agent then 0 else 1 end from d) x
      group by x.agent order by x.agent`;
    return {
      ticker,
      day,
      throughSeq: Number(rows[0]?.through ?? 0),
      brokers: rows.map((r) => ({
        agent: r.agent,
        bought: Number(r.bought),
        sold: Number(r.sold),
        trades: Number(r.trades),
      })),
    };
  }

  /**
   * The ticker's stored trades with `time` in [from, to) and `seq` ≤ `throughSeq` as bars of
   * `tf`, aligned on Brasília midnight (a 1D bar is a B3 session day; shared/candles.ts barStart),
   * and the last stored seq ≤ `throughSeq` of the ticker: trades after it are not written yet.
   */
  async candles(
    ticker: string,
    tf: Timeframe,
    from: number,
    to: number,
    throughSeq = Number.MAX_SAFE_INTEGER,
  ): Promise<{ candles: Candle[]; storedThrough: number }> {
    const width = `${TIMEFRAMES[tf]} seconds`;
    const origin = iso(-B3_UTC_OFFSET_MS); // 1970-01-01 00:00 in Brasília
    const [rows, head] = await Promise.all([
      this.sql<
        {
          bucket: Date;
          open: number;
          high: number;
          low: number;
          close: number;
          volume: string;
          trades: string;
        }[]
      >`select date_bin(${width}::interval, time, ${origin}::timestamptz) as bucket,
          (array_agg(price order by seq))[1] as open, max(price) as high, min(price) as low,
          (array_agg(price order by seq desc))[1] as close, sum(qty) as volume, count(*) as trades
        from ticks where ticker = ${ticker} and time >= ${iso(from)} and time < ${iso(to)}
          and seq <= ${throughSeq}
        group by bucket order by bucket`,
      this.sql<{ seq: string | null }[]>`select max(seq) as seq from ticks
        where ticker = ${ticker} and seq <= ${throughSeq}`,
    ]);
    return {
      candles: rows.map((r) => ({
        time: r.bucket.getTime(),
        open: r.open,
        high: r.high,
        low: r.low,
        close: r.close,
        volume: Number(r.volume),
        trades: Number(r.trades),
      })),
      storedThrough: Number(head[0]?.seq ?? 0),
    };
  }
}
