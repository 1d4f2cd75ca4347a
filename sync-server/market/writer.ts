import { Counter, Gauge, type Registry } from 'prom-client';
import type { NewDeadLetter } from '../deadLetters/queue.ts';
import type { Logger } from '../log.ts';
import type { Trade } from '../shared/market.ts';
import { isRefused } from '../store/pgErrors.ts';

export interface TickSink {
  insert(trades: readonly Trade[]): Promise<void>;
  /**
   * Whether this trade is stored. With it, a batch whose connection was lost mid-write (which
   * may have committed anyway: a batch is one statement, all or nothing) is looked up by its
   * first row before it is resent, and a write that hangs is looked into. Without it, a batch is
   * resent as it is (at least once).
   */
  contains?(trade: Trade): Promise<boolean>;
}

/** The TickStore (store/ticks.ts) as a sink, counting the rows it writes. */
export function tickSink(store: Required<TickSink>, onWritten: (rows: number) => void = () => {}): TickSink {
  return {
    insert: (trades) => store.insert(trades).then(() => onWritten(trades.length)),
    contains: (t) => store.contains(t),
  };
}

export interface WriterOptions {
  /** A batch is written once it has this many rows… */
  readonly batchRows: number;
  /** …or once its oldest row has waited this long. */
  readonly flushMs: number;
  /** Rows held in memory while the database is down; beyond this they are dead-lettered. */
  readonly maxBufferedRows: number;
  /** A batch the server itself refuses (not a lost connection) is retried this often, then dead-lettered. */
  readonly maxDataErrorAttempts: number;
  /** Batches written at once: 2 suits PostgreSQL here (one INSERT of 5,000 rows keeps a backend core busy); PGlite has one connection. */
  readonly concurrency: number;
  /** Longest pause between attempts while the database is unreachable. */
  readonly maxBackoffMs: number;
  /**
   * A write still pending after this long is looked into (sinks with `contains`): stored → done;
   * database unreachable → its connection is gone, so is the write. A look-up itself that takes
   * longer than this is taken for an unreachable database.
   */
  readonly probeAfterMs?: number;
  /** A write still pending this long while the database answers is given up as lost. */
  readonly stalledMs?: number;
  /** Least pause before a batch that may have committed is looked up again. */
  readonly settleMs?: number;
}

export const DEFAULT_WRITER: WriterOptions = {
  batchRows: 5_000,
  flushMs: 100,
  maxBufferedRows: 1_000_000,
  maxDataErrorAttempts: 3,
  concurrency: 1,
  maxBackoffMs: 5_000,
  probeAfterMs: 2_000,
  stalledMs: 10_000,
  settleMs: 1_000,
};

export interface WriterStats {
  /** Rows stored (a resent batch found already stored counts once). */
  written: number;
  /** Rows held in memory: waiting, being written, or waiting to be retried. */
  buffered: number;
  /** Rows handed to the dead-letter queue (overflow, refused batches). */
  deadLettered: number;
  /** Failed write attempts. */
  retries: number;
  /** False from a failed write until the next one succeeds. */
  databaseUp: boolean;
}

interface Batch {
  /** Order of the batch: retried batches go out again oldest first. */
  readonly n: number;
  /** Number of its first row among all rows ever queued (flush waits by it). */
  readonly from: number;
  readonly trades: Trade[];
  /** Its last attempt lost the connection: it may be stored already. */
  uncertain: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Batches trades into the store, retrying through outages without losing a row. Up to
 * `concurrency` batches are written at once. A batch whose write failed is kept whole and
 * retried before anything newer. With a sink that can look a trade up, a write that hangs is
 * looked into, and a batch whose connection was lost mid-write is looked up (first row: a
 * batch is one statement) before it is resent, so a commit whose acknowledgement was lost is
 * not written twice.
 */
export class TickWriter {
  private queue: Trade[] = [];
  /** Rows ever queued; the queue holds the last `queue.length` of them. */
  private queued = 0;
  private retry: Batch[] = [];
  private retryRows = 0;
  private readonly inflight = new Set<Batch>();
  private inflightRows = 0;
  private nextBatch = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Trades past the buffer, on their way to the dead-letter queue. */
  private overflow: Trade[] = [];
  private overflowTimer: NodeJS.Timeout | undefined;
  private idle: (() => void)[] = [];
  private pausedUntil = 0;
  private backoffMs = 0;
  private dataErrors = 0;
  readonly stats: WriterStats = { written: 0, buffered: 0, deadLettered: 0, retries: 0, databaseUp: true };

  constructor(
    private readonly sink: TickSink,
    private readonly deadLetter: (letter: NewDeadLetter) => void,
    private readonly log: Logger,
    private readonly opts: WriterOptions = DEFAULT_WRITER,
  ) {}

  write(trades: readonly Trade[]) {
    const held = this.queue.length + this.retryRows + this.inflightRows;
    const room = this.opts.maxBufferedRows - held;
    if (room < trades.length) {
      // Gathered into one letter per batch or per flushMs, not one per call (per ticker and drain).
      for (const t of trades.slice(Math.max(0, room))) this.overflow.push(t);
      if (this.overflow.length >= this.opts.batchRows) this.letOverflowGo();
      else this.overflowTimer ??= setTimeout(() => this.letOverflowGo(), this.opts.flushMs);
      trades = trades.slice(0, Math.max(0, room));
    }
    for (const t of trades) this.queue.push(t);
    this.queued += trades.length;
    this.updateBuffered();
    if (this.queue.length >= this.opts.batchRows) this.pump();
    else this.timer ??= setTimeout(() => this.pump(true), this.opts.flushMs);
  }

  /**
   * Resolves once every row handed over before the call is written or dead-lettered (rows may
   * keep arriving meanwhile); used at shutdown. Rejects if the database stays down.
   */
  async flush(timeoutMs = 3_000): Promise<void> {
    this.letOverflowGo();
    const deadline = Date.now() + timeoutMs;
    const target = this.queued;
    const pending = () =>
      this.queued - this.queue.length < target ||
      this.retry.some((b) => b.from < target) ||
      [...this.inflight].some((b) => b.from < target);
    while (pending()) {
      if (Date.now() > deadline) {
        const left = Math.min(target, this.queued) - (this.queued - this.queue.length);
        throw new Error(
          `${Math.max(0, left) + this.retryRows + this.inflightRows} trades could not be written in ${timeoutMs} ms`,
        );
      }
      this.pump(true);
      await Promise.race([
        new Promise<void>((r) => this.idle.push(r)),
        new Promise((r) => setTimeout(r, 20)),
      ]);
    }
  }

  /**
   * Shutdown: flushes, and dead-letters what the database did not take in time (it is down), so
   * that the dead-letter queue spills it to disk instead of it going with the process.
   */
  async close(timeoutMs?: number): Promise<void> {
    try {
      await this.flush(timeoutMs);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'trades left unwritten at shutdown');
      this.deadLetter({
        source: 'store.ticks',
        reason: 'unwritten_at_shutdown',
        detail: (err as Error).message,
        payload: { trades: this.takeUnwritten() },
      });
    }
  }

  /**
   * Takes whatever is not being written: failed batches first, then the waiting rows. Rows of a
   * batch still in flight are not included.
   */
  private takeUnwritten(): Trade[] {
    const rest = [...this.retry.flatMap((b) => b.trades), ...this.queue];
    this.retry = [];
    this.retryRows = 0;
    this.queue = [];
    this.updateBuffered();
    return rest;
  }

  private letOverflowGo() {
    clearTimeout(this.overflowTimer);
    this.overflowTimer = undefined;
    if (this.overflow.length === 0) return;
    const trades = this.overflow;
    this.overflow = [];
    this.stats.deadLettered += trades.length;
    this.deadLetter({
      source: 'store.ticks',
      reason: 'write_buffer_overflow',
      detail: `${trades.length} trades arrived while ${this.opts.maxBufferedRows} were waiting for the database`,
      payload: { trades },
    });
  }

  private updateBuffered() {
    this.stats.buffered = this.queue.length + this.retryRows + this.inflightRows;
  }

  /** Starts batches while there is room; `partial` also sends a batch smaller than batchRows. */
  private pump(partial = false) {
    clearTimeout(this.timer);
    this.timer = undefined;
    const wait = this.pausedUntil - Date.now();
    if (wait > 0) {
      this.timer = setTimeout(() => this.pump(true), wait);
      return;
    }
    while (this.inflight.size < this.opts.concurrency) {
      const again = this.retry.shift();
      if (again) {
        this.retryRows -= again.trades.length;
        void this.writeBatch(again);
        continue;
      }
      if (this.queue.length === 0 || (!partial && this.queue.length < this.opts.batchRows)) break;
      const from = this.queued - this.queue.length;
      const trades = this.queue.splice(0, this.opts.batchRows);
      void this.writeBatch({ n: this.nextBatch++, from, trades, uncertain: false });
    }
    this.updateBuffered();
    if (this.queue.length + this.retryRows > 0 && this.inflight.size < this.opts.concurrency) {
      this.timer = setTimeout(() => this.pump(true), this.opts.flushMs);
    }
  }

  private async writeBatch(batch: Batch) {
    const rows = batch.trades.length;
    this.inflight.add(batch);
    this.inflightRows += rows;
    const first = batch.trades[0] as Trade;
    const contains = this.sink.contains?.bind(this.sink);
    const stored = contains && (() => this.bounded(contains(first)));
    let phase: 'look-up' | 'insert' = 'look-up';
    try {
      if (batch.uncertain && stored && (await stored())) {
        this.log.info({ rows }, 'tick batch was stored before its connection was lost; not resent');
      } else {
        phase = 'insert';
        const insert = this.sink.insert(batch.trades);
        await (stored ? this.watch(insert, stored) : insert);
      }
      this.stats.written += rows;
      if (!this.stats.databaseUp) this.log.info({ buffered: this.stats.buffered }, 'tick writes resumed');
      this.stats.databaseUp = true;
      this.backoffMs = 0;
      this.dataErrors = 0;
    } catch (err) {
      this.stats.retries++;
      // The server refused the write itself: nothing of it is stored.
      const refused = isRefused(err) && phase === 'insert';
      if (refused && ++this.dataErrors >= this.opts.maxDataErrorAttempts) {
        this.dataErrors = 0;
        this.stats.deadLettered += rows;
        this.deadLetter({
          source: 'store.ticks',
          reason: 'write_rejected',
          detail: (err as Error).message,
          payload: { trades: batch.trades },
        });
      } else {
        // Kept whole and retried before anything newer, after a pause.
        batch.uncertain = !refused;
        if (!isRefused(err)) this.stats.databaseUp = false;
        const at = this.retry.findIndex((b) => b.n > batch.n);
        this.retry.splice(at < 0 ? this.retry.length : at, 0, batch);
        this.retryRows += rows;
        this.backoffMs = Math.min(this.opts.maxBackoffMs, Math.max(10, this.backoffMs * 2));
        // A server that had the last byte finishes the commit even with the connection gone.
        const pause =
          batch.uncertain && contains
            ? Math.max(this.backoffMs, this.opts.settleMs ?? 1_000)
            : this.backoffMs;
        this.pausedUntil = Math.max(this.pausedUntil, Date.now() + pause);
        this.log.warn(
          {
            err: (err as Error).message,
            buffered: this.queue.length + this.retryRows + this.inflightRows - rows,
            retryInMs: pause,
          },
          'tick write failed',
        );
      }
    } finally {
      this.inflight.delete(batch);
      this.inflightRows -= rows;
      this.updateBuffered();
      for (const r of this.idle.splice(0)) r();
      this.pump(this.queue.length + this.retryRows > 0);
    }
  }

  /** A look-up that does not answer within probeAfterMs: the database is taken for unreachable. */
  private bounded<T>(lookUp: Promise<T>): Promise<T> {
    const ms = this.opts.probeAfterMs ?? 2_000;
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      lookUp,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`tick look-up got no answer in ${ms} ms`)), ms);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  /**
   * Waits for a write, looking into it while it hangs (a connection that died silently leaves
   * its query pending until TCP gives up, minutes later). Stored meanwhile → done; database
   * unreachable → the write went with its connection; still pending while the database answers
   * → given up as stalled. A write given up on is left to itself: the batch is looked up again
   * before it is resent.
   */
  private watch(insert: Promise<void>, stored: () => Promise<boolean>): Promise<void> {
    const probeAfterMs = this.opts.probeAfterMs ?? 2_000;
    const stalledMs = this.opts.stalledMs ?? 10_000;
    let settled = false;
    return new Promise<void>((resolve, reject) => {
      const done = (err?: unknown) => {
        if (settled) return;
        settled = true;
        if (err === undefined) resolve();
        else reject(err);
      };
      insert.then(
        () => done(),
        (err: unknown) => done(err ?? new Error('write failed')),
      );
      void (async () => {
        let answeringSince: number | undefined;
        for (;;) {
          await sleep(probeAfterMs);
          if (settled) return;
          try {
            if (await stored()) return done();
            answeringSince ??= Date.now();
            if (Date.now() - answeringSince >= stalledMs)
              return done(new Error(`tick write stalled for ${stalledMs} ms while the database answers`));
          } catch (err) {
            if (!isRefused(err)) return done(err);
          }
        }
      })();
    });
  }
}

/** The writer's state on /metrics: what waits in memory, failed attempts, database reachable. */
export function writerMetrics(registry: Registry, writer: TickWriter): void {
  const { stats } = writer;
  new Gauge({
    name: 'tape_tick_writer_buffered_rows',
    help: 'Trades held in memory waiting for the database (queued, in flight or to retry)',
    registers: [registry],
    collect() {
      this.set(stats.buffered);
    },
  });
  new Gauge({
    name: 'tape_tick_writer_database_up',
    help: '1 while tick writes succeed, 0 from a failed write (database unreachable) until one succeeds',
    registers: [registry],
    collect() {
      this.set(stats.databaseUp ? 1 : 0);
    },
  });
  const counter = (name: string, help: string, read: () => number) => {
    let seen = 0;
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const now = read();
        this.inc(now - seen);
        seen = now;
      },
    });
  };
  counter(
    'tape_tick_writer_retries_total',
    'Failed tick write attempts (each is retried or dead-lettered)',
    () => stats.retries,
  );
  counter(
    'tape_tick_writer_dead_lettered_rows_total',
    'Trades the writer handed to the dead-letter queue (buffer overflow, refused batches)',
    () => stats.deadLettered,
  );
}
