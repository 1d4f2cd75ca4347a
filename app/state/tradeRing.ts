import type { Trade } from '../../sync-server/shared/market.ts';

/** How many of a ticker's trades the app keeps for Times & Trades (and the broker flow's catch-up). */
export const TAPE_TRADES = 2_000;

/**
 * A ticker's most recent trades in a fixed ring: the oldest goes when a new one comes, read newest
 * first. It knows where its run of trades without a hole starts, so the broker flow can tell
 * whether it holds every trade after a seq.
 */
export class TradeRing {
  private readonly buf: Array<Trade | undefined>;
  /** Where the next trade is written. */
  private head = 0;
  private count = 0;
  /** The first seq after the last hole (a gap in the feed's numbering), undefined while empty. */
  private runFrom: number | undefined;

  constructor(readonly capacity = TAPE_TRADES) {
    this.buf = new Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** The i-th newest trade (0 the newest), undefined past the oldest. */
  at(i: number): Trade | undefined {
    if (i < 0 || i >= this.count) return undefined;
    return this.buf[(this.head - 1 - i + this.capacity) % this.capacity];
  }

  /**
   * Adds a ticker's trades, oldest first. A seq that skips ahead starts a new run (the trades
   * between never came: a gap too large to replay, a conflated socket); one at or below the newest
   * held means the server numbers again from an older head (`rewound`), so what was held goes.
   */
  push(trades: readonly Trade[]): void {
    for (const t of trades) {
      let newest = this.at(0);
      if (newest && t.seq <= newest.seq) {
        this.clear();
        newest = undefined;
      }
      if (!newest || t.seq !== newest.seq + 1) this.runFrom = t.seq;
      this.buf[this.head] = t;
      this.head = (this.head + 1) % this.capacity;
      if (this.count < this.capacity) this.count++;
    }
  }

  /**
   * Adds older trades, oldest first, before the oldest held, as far as there is room: only the
   * run that ends right before the oldest held (or, empty, any run), so no hole is made. Returns
   * how many were added.
   */
  older(trades: readonly Trade[]): number {
    const oldest = this.at(this.count - 1);
    if (!oldest) {
      const run = trades.slice(-this.capacity);
      this.push(run);
      return run.length;
    }
    let added = 0;
    let next = oldest.seq - 1;
    for (let i = trades.length - 1; i >= 0 && this.count < this.capacity; i--) {
      const t = trades[i] as Trade;
      if (t.seq > next) continue; // already held, or newer
      if (t.seq < next) break; // a hole: stop before it
      this.buf[(this.head - this.count - 1 + this.capacity) % this.capacity] = t;
      this.count++;
      added++;
      next--;
    }
    // The run held without a hole reached back to the oldest: it now starts earlier.
    if (added > 0 && this.runFrom === oldest.seq) this.runFrom = next + 1;
    return added;
  }

  clear(): void {
    this.buf.fill(undefined);
    this.head = 0;
    this.count = 0;
    this.runFrom = undefined;
  }

  /** The oldest trade of the run held without a hole: the trades from it to the newest are all there. */
  runFirst(): Trade | undefined {
    for (let i = this.count - 1; i >= 0; i--) {
      const t = this.at(i) as Trade;
      if (this.runFrom === undefined || t.seq >= this.runFrom) return t;
    }
    return undefined;
  }

  /**
   * Every trade after `seq`, oldest first, or undefined when the ring does not hold them all
   * (evicted, or before a hole). Nothing newer than `seq` held: none.
   */
  after(seq: number): Trade[] | undefined {
    const newest = this.at(0);
    if (!newest || newest.seq <= seq) return [];
    if ((this.runFirst() as Trade).seq > seq + 1) return undefined;
    const out: Trade[] = [];
    for (let i = 0; i < this.count; i++) {
      const t = this.at(i) as Trade;
      if (t.seq <= seq) break;
      out.push(t);
    }
    return out.reverse();
  }
}
