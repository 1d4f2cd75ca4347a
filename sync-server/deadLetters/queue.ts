import { existsSync } from 'node:fs';
import { appendFile, readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { DeadLetterCount } from '../shared/admin.ts';

// The dead-letter capability: what a letter is, the port it is kept through (DeadLetterStore,
// store/deadLetters.ts, is the table behind it) and the queue every capability writes to.

export interface NewDeadLetter {
  readonly source: string;
  readonly reason: string;
  readonly detail: string;
  readonly payload: unknown;
}

export interface DeadLetterRow extends NewDeadLetter {
  readonly id: number;
  readonly attempts: number;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly resolvedAt: string | null;
  readonly resolution: string | null;
}

/** A payload made JSON-safe for the dead-letter table: bigints become strings. */
export const jsonSafe = (v: unknown) =>
  JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))) as unknown;

/** Which letters: open ones (the default), resolved ones, or all. */
export type LetterStatus = 'open' | 'resolved' | 'all';

/**
 * Where a page of letters ends, in their order (newest `lastSeen` first, then highest id):
 * the next page starts after it. `lastSeen` is the store's own, to the microsecond.
 */
export interface LetterKey {
  readonly lastSeen: string;
  readonly id: number;
}

/** Letters of one source and reason, last seen in [from, to), after a key, newest first. */
export interface LetterQuery {
  readonly source?: string;
  readonly reason?: string;
  /** ISO times on `lastSeen`: from inclusive, to exclusive. */
  readonly from?: string;
  readonly to?: string;
  /** Default `open`. */
  readonly status?: LetterStatus;
  readonly limit: number;
  readonly after?: LetterKey;
}

/** A stored letter with the key a page that ends at it continues from. */
export interface KeyedLetter {
  readonly letter: DeadLetterRow;
  readonly key: LetterKey;
}

/** Where letters are kept: the `dead_letters` table (store/deadLetters.ts). */
export interface DeadLetterStorage {
  /**
   * Stores the letters; a repeat (same source, reason and payload) counts as another attempt.
   * Rejects with LettersRefused when the database refuses the letters themselves; any other
   * rejection means they could not be stored now (the database is unreachable).
   */
  add(letters: readonly NewDeadLetter[]): Promise<void>;
  /** Newest first (last seen, then id). */
  list(query: LetterQuery): Promise<DeadLetterRow[]>;
  /** The same, each letter with its key: what a page's cursor is made of. */
  page(query: LetterQuery): Promise<KeyedLetter[]>;
  /** Open letters per source and reason, of one source and last seen in [from, to) if given. */
  counts(query: Pick<LetterQuery, 'source' | 'from' | 'to'>): Promise<DeadLetterCount[]>;
  get(id: number): Promise<DeadLetterRow | undefined>;
  resolve(id: number, resolution: string): Promise<void>;
  /** Another attempt failed, for this reason. */
  retried(id: number, detail: string): Promise<void>;
  countOpen(): Promise<number>;
}

/** The database refused these letters (say, a payload it cannot hold): storing them again fails again. */
export class LettersRefused extends Error {
  override readonly name = 'LettersRefused';
}

export interface DeadLetterQueueOptions {
  /** NDJSON file that holds letters while the database cannot take them. */
  readonly spillPath: string;
  readonly flushMs?: number;
  /** Longest pause between attempts to move spilled letters into the table. */
  readonly maxRetryMs?: number;
  /**
   * A write to the table not answered by then goes to the spill file instead (a driver waiting
   * to reconnect must not keep letters in memory only). Should it land later, the copy from the
   * spill counts as a repeat, not as a second letter.
   */
  readonly writeTimeoutMs?: number;
  /** The database could not take letters: they were spilled to the file. */
  readonly onError?: (err: Error) => void;
  /** Spilled letters were moved into the table. */
  readonly onRecovered?: (count: number) => void;
  readonly onAdd?: (letter: NewDeadLetter) => void;
}

/**
 * The dead-letter queue every capability writes to. Letters are batched into the table; while
 * the database is unreachable they are appended to a local spill file, and moved into the table
 * once it answers again (retried with backoff, not only when the next letter comes), so a letter
 * is never lost with the database down. A letter the database itself refuses (say, a payload
 * jsonb cannot hold) goes to `<spill>.rejected` instead of blocking the others.
 */
export class DeadLetterQueue {
  private pending: NewDeadLetter[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private retryMs = 0;
  /** While the database is failing: the table is not tried again before this (letters go to the file). */
  private nextTry = 0;
  private closed = false;
  /** Letters in the spill file, as far as this process knows. */
  private spilledNow = 0;

  constructor(
    readonly store: DeadLetterStorage,
    private readonly opts: DeadLetterQueueOptions,
  ) {
    // A spill left by an earlier run moves in as soon as the database answers.
    if (existsSync(opts.spillPath)) this.retryLater(0);
  }

  /** Letters waiting in the spill file for the database. */
  get spilled(): number {
    return this.spilledNow;
  }

  add(letter: NewDeadLetter) {
    this.opts.onAdd?.(letter);
    this.pending.push(letter);
    this.flushSoon();
  }

  /**
   * Writes what is pending and tries to move any spilled letters in; resolves once every letter
   * added before the call is in the table or in the spill file.
   */
  async flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await this.flushing;
    do await this.run(true);
    while (this.pending.length > 0);
  }

  /**
   * Shutdown: writes what is pending (straight to the file if the database is failing, so as
   * not to spend the shutdown budget waiting for it) and stops retrying; what is spilled stays
   * in the file and moves in at the next start.
   */
  async close(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await this.flushing;
    do await this.run(Date.now() >= this.nextTry);
    while (this.pending.length > 0);
    this.closed = true;
    clearTimeout(this.flushTimer);
    clearTimeout(this.retryTimer);
  }

  private flushSoon() {
    if (this.closed) return;
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = undefined;
      void this.run(false);
    }, this.opts.flushMs ?? 50);
  }

  private retryLater(ms: number) {
    if (this.closed) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.run(true);
    }, ms);
    // A retry alone never keeps the process alive.
    this.retryTimer.unref();
  }

  private run(tryTable: boolean): Promise<void> {
    this.flushing ??= this.write(tryTable).finally(() => {
      this.flushing = undefined;
      if (this.pending.length > 0) this.flushSoon();
      if (this.spilledNow > 0 && !this.retryTimer) this.retryLater(Math.max(0, this.nextTry - Date.now()));
    });
    return this.flushing;
  }

  private insert(letters: readonly NewDeadLetter[]): Promise<void> {
    const ms = this.opts.writeTimeoutMs ?? 5_000;
    let timer: NodeJS.Timeout | undefined;
    const added = this.store.add(letters);
    added.catch(() => {}); // settles on its own after a timeout
    return Promise.race([
      added,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`dead letters not stored within ${ms} ms`)), ms);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  /** `tryTable` false: while the database is failing, new letters go straight to the file. */
  private async write(tryTable: boolean) {
    const batch = this.pending;
    this.pending = [];
    if (!tryTable && Date.now() < this.nextTry) {
      // The database failed a moment ago: to disk at once; the retry timer tries it again.
      if (batch.length > 0) await appendFile(this.opts.spillPath, ndjson(batch));
      this.spilledNow += batch.length;
      return;
    }
    const spilled = await readFile(this.opts.spillPath, 'utf8').catch(() => '');
    const recovered = spilled
      .split('\n')
      .filter(Boolean)
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as NewDeadLetter];
        } catch {
          return []; // a line cut short by a crash mid-append
        }
      });
    const all = [...recovered, ...batch];
    if (all.length === 0) return;
    let unstored: NewDeadLetter[] = [];
    const rejected: NewDeadLetter[] = [];
    try {
      await this.insert(all);
    } catch (err) {
      if (!(err instanceof LettersRefused)) {
        this.opts.onError?.(err as Error);
        unstored = all;
      } else {
        // One bad letter must not hold the others back: one at a time, to find it.
        for (const [i, l] of all.entries()) {
          try {
            await this.insert([l]);
          } catch (e) {
            if (e instanceof LettersRefused) rejected.push(l);
            else {
              this.opts.onError?.(e as Error);
              unstored = all.slice(i);
              break;
            }
          }
        }
      }
    }
    if (rejected.length > 0) {
      await appendFile(`${this.opts.spillPath}.rejected`, ndjson(rejected));
      this.opts.onError?.(
        new Error(
          `${rejected.length} dead letters refused by the database: kept in ${this.opts.spillPath}.rejected`,
        ),
      );
    }
    if (unstored.length === 0) {
      if (recovered.length > 0) {
        await rm(this.opts.spillPath, { force: true });
        this.opts.onRecovered?.(recovered.length);
      }
      this.spilledNow = 0;
      this.retryMs = 0;
      this.nextTry = 0;
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      return;
    }
    if (unstored.length === all.length) {
      // The usual outage: the file keeps what it had, the new letters are appended.
      if (batch.length > 0) await appendFile(this.opts.spillPath, ndjson(batch));
    } else {
      // Part of the spill went in: the file is replaced by what is left, atomically.
      const tmp = `${this.opts.spillPath}.tmp`;
      await writeFile(tmp, ndjson(unstored));
      await rename(tmp, this.opts.spillPath);
    }
    this.spilledNow = unstored.length;
    this.retryMs = Math.min(this.opts.maxRetryMs ?? 5_000, Math.max(250, this.retryMs * 2));
    this.nextTry = Date.now() + this.retryMs;
    this.retryLater(this.retryMs);
  }
}

const ndjson = (letters: readonly NewDeadLetter[]) => letters.map((l) => `${JSON.stringify(l)}\n`).join('');
