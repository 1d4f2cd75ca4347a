import type { Logger } from '../log.ts';
import type { NewDeadLetter } from '../store/deadLetters.ts';
import type { Trade } from './protocol.ts';

export interface TickSink {
  insert(trades: readonly Trade[]): Promise<void>;
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
  /** Batches written at once: 2 suits PostgreSQL here; PGlite has one connection. */
  readonly concurrency: number;
  /** Longest pause between attempts while the database is unreachable. */
  readonly maxBackoffMs: number;
}

export const DEFAULT_WRITER: WriterOptions = {
  batchRows: 5_000,
  flushMs: 100,
  maxBufferedRows: 1_000_000,
  maxDataErrorAttempts: 3,
  concurrency: 1,
  maxBackoffMs: 5_000,
};

export interface WriterStats {
  written: number;
  buffered: number;
  deadLettered: number;
  retries: number;
}

// postgres.js reports a server-side refusal as PostgresError (it has a SQLSTATE); anything else
// — refused, reset or timed-out connections — means the database is unreachable.
const isDataError = (err: unknown) => (err as { name?: string }).name === 'PostgresError';

/**
 * Batches trades into the store, retrying through outages without losing a row. Up to
 * `concurrency` batches are written at once (one PostgreSQL COPY saturates one backend core);
 * a failed batch goes back to the head of the queue.
 */
export class TickWriter {
  private queue: Trade[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inflight = 0;
  private inflightRows = 0;
  private idle: (() => void)[] = [];
  private pausedUntil = 0;
  private backoffMs = 0;
  private dataErrors = 0;
  /** Rows handed to write(), overflow included (it is dead-lettered on arrival). */
  private accepted = 0;
  readonly stats: WriterStats = { written: 0, buffered: 0, deadLettered: 0, retries: 0 };

  constructor(
    private readonly sink: TickSink,
    private readonly deadLetter: (letter: NewDeadLetter) => void,
    private readonly log: Logger,
    private readonly opts: WriterOptions = DEFAULT_WRITER,
  ) {}

  write(trades: readonly Trade[]) {
    this.accepted += trades.length;
    const room = this.opts.maxBufferedRows - this.queue.length - this.inflightRows;
    if (room < trades.length) {
      const overflow = trades.slice(Math.max(0, room));
      this.stats.deadLettered += overflow.length;
      this.deadLetter({
        source: 'store.ticks',
        reason: 'write_buffer_overflow',
        detail: `${overflow.length} trades arrived while ${this.queue.length} were waiting for the database`,
        payload: { trades: overflow },
      });
      trades = trades.slice(0, Math.max(0, room));
    }
    for (const t of trades) this.queue.push(t);
    this.stats.buffered = this.queue.length + this.inflightRows;
    if (this.queue.length >= this.opts.batchRows) this.pump();
    else this.timer ??= setTimeout(() => this.pump(true), this.opts.flushMs);
  }

  /**
   * Resolves once as many rows as had been handed over at the call are written or dead-lettered
   * (new rows may keep arriving); used at shutdown. Rejects if the database stays down.
   */
  async flush(timeoutMs = 3_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const target = this.accepted;
    while (this.stats.written + this.stats.deadLettered < target) {
      if (Date.now() > deadline) {
        throw new Error(
          `${target - this.stats.written - this.stats.deadLettered} trades could not be written in ${timeoutMs} ms`,
        );
      }
      this.pump(true);
      await Promise.race([
        new Promise<void>((r) => this.idle.push(r)),
        new Promise((r) => setTimeout(r, 20)),
      ]);
    }
  }

  /** Hands over whatever could not be written (shutdown with the database down). */
  takeUnwritten(): Trade[] {
    const rest = this.queue;
    this.queue = [];
    this.stats.buffered = 0;
    return rest;
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
    while (this.inflight < this.opts.concurrency && this.queue.length > 0) {
      if (!partial && this.queue.length < this.opts.batchRows) break;
      void this.writeBatch(this.queue.splice(0, this.opts.batchRows));
    }
    this.stats.buffered = this.queue.length + this.inflightRows;
    if (this.queue.length > 0 && this.inflight < this.opts.concurrency) {
      this.timer = setTimeout(() => this.pump(true), this.opts.flushMs);
    }
  }

  private async writeBatch(batch: Trade[]) {
    this.inflight++;
    this.inflightRows += batch.length;
    try {
      await this.sink.insert(batch);
      this.stats.written += batch.length;
      this.backoffMs = 0;
      this.dataErrors = 0;
    } catch (err) {
      this.stats.retries++;
      if (isDataError(err) && ++this.dataErrors >= this.opts.maxDataErrorAttempts) {
        this.dataErrors = 0;
        this.stats.deadLettered += batch.length;
        this.deadLetter({
          source: 'store.ticks',
          reason: 'write_rejected',
          detail: (err as Error).message,
          payload: { trades: batch },
        });
      } else {
        // Back to the head of the queue, and a pause before the next attempt.
        this.queue.unshift(...batch);
        this.backoffMs = Math.min(this.opts.maxBackoffMs, Math.max(10, this.backoffMs * 2));
        this.pausedUntil = Date.now() + this.backoffMs;
        this.log.warn(
          { err: (err as Error).message, buffered: this.queue.length, retryInMs: this.backoffMs },
          'tick write failed',
        );
      }
    } finally {
      this.inflight--;
      this.inflightRows -= batch.length;
      this.stats.buffered = this.queue.length + this.inflightRows;
      for (const r of this.idle.splice(0)) r();
      this.pump(this.queue.length > 0);
    }
  }
}
