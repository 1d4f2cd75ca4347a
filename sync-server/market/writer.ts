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
}

export const DEFAULT_WRITER: WriterOptions = {
  batchRows: 5_000,
  flushMs: 100,
  maxBufferedRows: 1_000_000,
  maxDataErrorAttempts: 3,
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

/** Batches trades into the store, in order, retrying through outages without losing a row. */
export class TickWriter {
  private queue: Trade[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private backoffMs = 0;
  private dataErrors = 0;
  readonly stats: WriterStats = { written: 0, buffered: 0, deadLettered: 0, retries: 0 };

  constructor(
    private readonly sink: TickSink,
    private readonly deadLetter: (letter: NewDeadLetter) => void,
    private readonly log: Logger,
    private readonly opts: WriterOptions = DEFAULT_WRITER,
  ) {}

  write(trades: readonly Trade[]) {
    const room = this.opts.maxBufferedRows - this.queue.length;
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
    this.stats.buffered = this.queue.length;
    if (this.queue.length >= this.opts.batchRows) this.kick(0);
    else this.timer ??= setTimeout(() => this.kick(0), this.opts.flushMs);
  }

  /** Writes everything queued; used at shutdown. Rejects if the database stays down. */
  async flush(timeoutMs = 3_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length > 0 || this.running) {
      if (Date.now() > deadline)
        throw new Error(`${this.queue.length} trades could not be written before shutdown`);
      this.kick(0);
      await this.running;
      if (this.queue.length > 0) await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Hands over whatever could not be written (shutdown with the database down). */
  takeUnwritten(): Trade[] {
    const rest = this.queue;
    this.queue = [];
    this.stats.buffered = 0;
    return rest;
  }

  private kick(delay: number) {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running) return;
    if (delay > 0) {
      this.timer = setTimeout(() => this.kick(0), delay);
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.queue.length > 0) this.kick(this.backoffMs);
    });
  }

  private async drain() {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.opts.batchRows);
      try {
        await this.sink.insert(batch);
        this.queue.splice(0, batch.length);
        this.stats.written += batch.length;
        this.stats.buffered = this.queue.length;
        this.backoffMs = 0;
        this.dataErrors = 0;
      } catch (err) {
        this.stats.retries++;
        if (isDataError(err) && ++this.dataErrors >= this.opts.maxDataErrorAttempts) {
          this.dataErrors = 0;
          this.queue.splice(0, batch.length);
          this.stats.deadLettered += batch.length;
          this.stats.buffered = this.queue.length;
          this.deadLetter({
            source: 'store.ticks',
            reason: 'write_rejected',
            detail: (err as Error).message,
            payload: { trades: batch },
          });
          continue;
        }
        // Keep the batch at the head and come back later: order is preserved.
        this.backoffMs = Math.min(5_000, Math.max(50, this.backoffMs * 2));
        this.log.warn(
          { err: (err as Error).message, buffered: this.queue.length, retryInMs: this.backoffMs },
          'tick write failed',
        );
        return;
      }
    }
  }
}
