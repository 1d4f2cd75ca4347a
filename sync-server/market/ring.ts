import type { Trade } from '../shared/market.ts';

/**
 * The last `capacity` trades of one ticker, oldest overwritten first: the first replay source.
 * Sequences in the ring are contiguous, so a range lookup is index arithmetic.
 */
export class TradeRing {
  private readonly slots: (Trade | undefined)[];
  private head = 0; // next write position
  private size = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('ring capacity must be a positive integer');
    this.slots = new Array(capacity);
  }

  push(t: Trade) {
    const last = this.lastSeq;
    if (this.size > 0 && t.seq !== last + 1) {
      throw new RangeError(`ring for ${t.ticker} expected seq ${last + 1}, got ${t.seq}`);
    }
    this.slots[this.head] = t;
    this.head = (this.head + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  get oldestSeq(): number {
    return this.size === 0 ? 0 : (this.at(0) as Trade).seq;
  }

  get lastSeq(): number {
    return this.size === 0 ? 0 : (this.at(this.size - 1) as Trade).seq;
  }

  get length(): number {
    return this.size;
  }

  /** Trades with seq > `after`, or undefined when the ring no longer holds seq after+1. */
  since(after: number): Trade[] | undefined {
    if (this.size === 0 || after >= this.lastSeq) return after >= this.lastSeq ? [] : undefined;
    if (after + 1 < this.oldestSeq) return undefined;
    const start = after + 1 - this.oldestSeq;
    const out: Trade[] = new Array(this.size - start);
    for (let i = start; i < this.size; i++) out[i - start] = this.at(i) as Trade;
    return out;
  }

  private at(i: number): Trade | undefined {
    return this.slots[(this.head - this.size + i + this.capacity) % this.capacity];
  }
}
