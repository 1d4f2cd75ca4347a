import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tradesFrom } from '../testing/trades.ts';
import { TradeRing } from './tradeRing.ts';

const run = tradesFrom;
const seqs = (ring: TradeRing) => Array.from({ length: ring.size }, (_, i) => ring.at(i)?.seq);

describe('TradeRing', () => {
  it('keeps the last `capacity` trades, newest first, whatever the batches', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 30 }), (sizes) => {
        const ring = new TradeRing(50);
        let next = 1;
        for (const n of sizes) {
          ring.push(run(next, next + n - 1));
          next += n;
        }
        const total = next - 1;
        const kept = Math.min(total, 50);
        expect(ring.size).toBe(kept);
        expect(seqs(ring)).toEqual(Array.from({ length: kept }, (_, i) => total - i));
        expect(ring.at(kept)).toBeUndefined();
        expect(ring.at(-1)).toBeUndefined();
      }),
    );
  });

  it('gives every trade after a seq it holds, oldest first', () => {
    const ring = new TradeRing(10);
    ring.push(run(1, 25));
    expect(ring.after(20)?.map((t) => t.seq)).toEqual([21, 22, 23, 24, 25]);
    expect(ring.after(15)?.map((t) => t.seq)).toEqual(run(16, 25).map((t) => t.seq));
    expect(ring.after(25)).toEqual([]);
    expect(ring.after(30)).toEqual([]);
  });

  it('says when it no longer holds them all (evicted)', () => {
    const ring = new TradeRing(10);
    ring.push(run(1, 25));
    expect(ring.after(14)).toBeUndefined();
    expect(ring.runFirst()?.seq).toBe(16);
    expect(new TradeRing(10).after(3)).toEqual([]);
    expect(new TradeRing(10).runFirst()).toBeUndefined();
  });

  it('keeps the trades before a hole on view, but not as part of the run after it', () => {
    const ring = new TradeRing(10);
    ring.push(run(1, 4));
    ring.push(run(8, 9)); // 5..7 never came (a gap too large to replay, conflation)
    expect(seqs(ring)).toEqual([9, 8, 4, 3, 2, 1]);
    expect(ring.after(7)?.map((t) => t.seq)).toEqual([8, 9]);
    expect(ring.after(4)).toBeUndefined();
    expect(ring.after(2)).toBeUndefined();
    expect(ring.runFirst()?.seq).toBe(8);
  });

  it('drops what it held when the server numbers again from an older head (rewound)', () => {
    const ring = new TradeRing(10);
    ring.push(run(1, 6));
    ring.push(run(4, 5));
    expect(seqs(ring)).toEqual([5, 4]);
    expect(ring.after(3)?.map((t) => t.seq)).toEqual([4, 5]);
  });
});
