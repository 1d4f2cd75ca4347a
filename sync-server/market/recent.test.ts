import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Instrument, instrumentFor } from '../shared/instruments.ts';
import type { Trade } from '../shared/market.ts';
import { petr4Market, sampleTrade } from '../testing/market.ts';

// The trades before a seq, as Times & Trades asks for them so it does not start empty: the older
// part from the database, the newer from the ring, no hole and no trade twice.

const petr = instrumentFor('PETR4', 'B') as Instrument;

/** A market whose database holds 1..stored and whose ring then got stored+1..head (capacity cap). */
function market(stored: number, head: number, cap: number, db: { fail?: boolean } = {}) {
  const rows = Array.from({ length: stored }, (_, i) => sampleTrade(i + 1));
  const m = petr4Market({
    ringCapacity: cap,
    head: () => stored,
    history: {
      range: async (_t, from, to) => {
        if (db.fail) throw new Error('database down');
        return rows.filter((r) => r.seq >= from && r.seq <= to);
      },
    },
  });
  // The ring holds what this process received; the database has all of it too once written.
  const live: Trade[] = [];
  for (let s = stored + 1; s <= head; s++) live.push(sampleTrade(s));
  if (live.length) m.trades(petr, live);
  for (const t of live) rows.push(t);
  return m;
}

describe('MarketService.tradesBefore', () => {
  it('gives the newest trades oldest first, past the ring into the database', async () => {
    const m = market(1_000, 1_300, 100); // the ring holds 1201..1300
    const seqs = (ts: Trade[] | undefined) => ts?.map((t) => t.seq);
    expect(seqs(await m.tradesBefore('PETR4', Number.MAX_SAFE_INTEGER, 5))).toEqual([
      1296, 1297, 1298, 1299, 1300,
    ]);
    const across = await m.tradesBefore('PETR4', 1_250, 100);
    expect(seqs(across)).toEqual(Array.from({ length: 100 }, (_, i) => 1_150 + i));
    expect(seqs(await m.tradesBefore('PETR4', 3, 10))).toEqual([1, 2]);
    expect(await m.tradesBefore('PETR4', 1, 10)).toEqual([]);
  });

  it('answers undefined, never a tape with a hole, when the database fails', async () => {
    const m = market(1_000, 1_300, 100, { fail: true });
    expect(await m.tradesBefore('PETR4', 1_250, 100)).toBeUndefined();
    // From the ring alone it still answers.
    expect((await m.tradesBefore('PETR4', 1_301, 50))?.length).toBe(50);
  });

  it('property: any window is contiguous, ends just before `before` (or at the head) and holds at most `limit`', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 1, max: 120 }),
        fc.integer({ min: 1, max: 700 }),
        fc.integer({ min: 1, max: 150 }),
        async (stored, more, cap, before, limit) => {
          const head = stored + more;
          const got = (await market(stored, head, cap).tradesBefore('PETR4', before, limit)) as Trade[];
          const end = Math.min(before - 1, head);
          const want = end < 1 ? 0 : Math.min(limit, end);
          expect(got.length).toBe(want);
          expect(got.map((t) => t.seq)).toEqual(Array.from({ length: want }, (_, i) => end - want + 1 + i));
        },
      ),
      { numRuns: 300 },
    );
  });
});
