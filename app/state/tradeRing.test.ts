import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tradeAt, tradesFrom } from '../testing/trades.ts';
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

describe('TradeRing.older', () => {
  it('puts the trades right before the oldest under it, up to the capacity, and the run starts there', () => {
    const r = new TradeRing(10);
    r.push([tradeAt(21), tradeAt(22), tradeAt(23)]);
    expect(
      r.older([tradeAt(15), tradeAt(16), tradeAt(17), tradeAt(18), tradeAt(19), tradeAt(20), tradeAt(21)]),
    ).toBe(6);
    expect(seqs(r)).toEqual([23, 22, 21, 20, 19, 18, 17, 16, 15]);
    expect(r.runFirst()?.seq).toBe(15);
    expect(r.after(14)?.length).toBe(9);
    // Full: the oldest asked for are the ones left out.
    expect(r.older([tradeAt(12), tradeAt(13), tradeAt(14)])).toBe(1);
    expect(seqs(r).at(-1)).toBe(14);
    // Live trades still go on top.
    r.push([tradeAt(24)]);
    expect(seqs(r).slice(0, 2)).toEqual([24, 23]);
  });

  it('never makes a hole: trades that do not end right before the oldest are left out', () => {
    const r = new TradeRing(10);
    r.push([tradeAt(21)]);
    expect(r.older([tradeAt(10), tradeAt(11)])).toBe(0);
    expect(r.older([tradeAt(17), tradeAt(19), tradeAt(20)])).toBe(2);
    expect(seqs(r)).toEqual([21, 20, 19]);
  });

  it('fills an empty ring with the newest of what it is given', () => {
    const r = new TradeRing(3);
    expect(r.older([tradeAt(1), tradeAt(2), tradeAt(3), tradeAt(4)])).toBe(3);
    expect(seqs(r)).toEqual([4, 3, 2]);
  });

  it('property: after older() and push() the ring reads as one contiguous run, newest first', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 10 }),
        (cap, start, olderCount, live) => {
          const r = new TradeRing(cap);
          r.push([tradeAt(start + 40)]);
          const old = Array.from({ length: olderCount }, (_, i) => tradeAt(start + 40 - olderCount + i));
          r.older(old);
          r.push(Array.from({ length: live }, (_, i) => tradeAt(start + 41 + i)));
          const s = seqs(r);
          expect(s).toEqual(Array.from({ length: s.length }, (_, i) => (s[0] as number) - i));
          expect(s.length).toBe(Math.min(cap, 1 + olderCount + live));
          expect(r.runFirst()?.seq).toBe(s.at(-1));
        },
      ),
    );
  });
});
