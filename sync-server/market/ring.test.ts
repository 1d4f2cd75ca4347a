import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sampleTrade } from '../testing/market.ts';
import { TradeRing } from './ring.ts';

const t = (seq: number) => sampleTrade(seq);

describe('TradeRing', () => {
  it('returns exactly the trades after a sequence while it still holds them', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 0, max: 220 }),
        (cap, n, after) => {
          const ring = new TradeRing(cap);
          for (let s = 1; s <= n; s++) ring.push(t(s));
          const got = ring.since(after);
          const oldest = Math.max(1, n - cap + 1);
          if (after >= n) expect(got).toEqual([]);
          else if (after + 1 < oldest) expect(got).toBeUndefined();
          else
            expect(got?.map((x) => x.seq)).toEqual(
              Array.from({ length: n - after }, (_, i) => after + 1 + i),
            );
          expect(ring.length).toBe(Math.min(cap, n));
        },
      ),
    );
  });

  it('refuses a gap: the ring only ever holds contiguous sequences', () => {
    const ring = new TradeRing(4);
    ring.push(t(1));
    expect(() => ring.push(t(3))).toThrow(/expected seq 2/);
  });

  it('holds 10,000 events by default sizing and evicts the oldest first', () => {
    const ring = new TradeRing(10_000);
    for (let s = 1; s <= 10_500; s++) ring.push(t(s));
    expect(ring.oldestSeq).toBe(501);
    expect(ring.lastSeq).toBe(10_500);
    expect(ring.since(499)).toBeUndefined();
    expect(ring.since(500)).toHaveLength(10_000);
    expect(ring.since(10_498)?.map((x) => x.seq)).toEqual([10_499, 10_500]);
  });
});
