import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NewDeadLetter } from '../deadLetters/queue.ts';
import { createLogger } from '../log.ts';
import type { Trade } from '../shared/market.ts';
import { sampleTrade } from '../testing/market.ts';
import { TickWriter } from './writer.ts';

const log = createLogger('silent');
const t = (seq: number) => sampleTrade(seq);
class PostgresError extends Error {
  override name = 'PostgresError';
}
const opts = {
  batchRows: 10,
  flushMs: 5,
  maxBufferedRows: 1000,
  maxDataErrorAttempts: 3,
  concurrency: 1,
  maxBackoffMs: 20,
};

/** A database that is up or down as the test sets `sink.up`; `written` lists the stored seqs. */
const outage = (up: boolean) => {
  const written: number[] = [];
  const sink = {
    up,
    async insert(batch: readonly Trade[]) {
      if (!sink.up) throw new Error('ECONNREFUSED');
      written.push(...batch.map((x) => x.seq));
    },
  };
  return { sink, written };
};

describe('TickWriter', () => {
  it('property: through any pattern of outages every trade is written exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 120 }),
        async (failures, n) => {
          const written: number[] = [];
          let call = 0;
          const sink = {
            async insert(batch: readonly Trade[]) {
              if (failures[call++ % failures.length] && call < 40) throw new Error('ECONNREFUSED');
              written.push(...batch.map((x) => x.seq));
            },
          };
          const letters: NewDeadLetter[] = [];
          const w = new TickWriter(sink, (l) => letters.push(l), log, opts);
          for (let s = 1; s <= n; s += 7)
            w.write(Array.from({ length: Math.min(7, n - s + 1) }, (_, i) => t(s + i)));
          await w.flush(20_000);
          expect(letters).toEqual([]);
          expect(written).toEqual(Array.from({ length: n }, (_, i) => i + 1));
        },
      ),
      { numRuns: 25 },
    );
  });

  it('property: with look-ups, lost acknowledgements, hung writes and hung look-ups still write every trade exactly once', async () => {
    // What one attempt does: committed and answered; refused before commit; committed but the
    // answer lost; committed but never answered; never answered and not committed.
    const outcomes = ['ok', 'refused', 'lostAck', 'hangStored', 'hangLost'] as const;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...outcomes), { minLength: 1, maxLength: 12 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 60 }),
        async (attempts, lookUpHangs, n) => {
          const stored = new Map<number, number>();
          const store = (batch: readonly Trade[]) => {
            for (const x of batch) stored.set(x.seq, (stored.get(x.seq) ?? 0) + 1);
          };
          let call = 0;
          let lookUps = 0;
          const never = new Promise<never>(() => {});
          const sink = {
            async insert(batch: readonly Trade[]) {
              // Past the scripted attempts the database behaves.
              const what = call < 30 ? attempts[call % attempts.length] : 'ok';
              call++;
              if (what === 'refused') throw new Error('ECONNRESET');
              if (what === 'hangLost') return never;
              store(batch);
              if (what === 'lostAck') throw new Error('CONNECTION_CLOSED');
              if (what === 'hangStored') return never;
            },
            async contains(x: Trade) {
              if (lookUps++ < 20 && lookUpHangs[lookUps % lookUpHangs.length]) return never;
              return stored.has(x.seq);
            },
          };
          const letters: NewDeadLetter[] = [];
          const w = new TickWriter(sink, (l) => letters.push(l), log, {
            ...opts,
            probeAfterMs: 10,
            stalledMs: 30,
            settleMs: 5,
          });
          for (let s = 1; s <= n; s += 7)
            w.write(Array.from({ length: Math.min(7, n - s + 1) }, (_, i) => t(s + i)));
          await w.flush(20_000);
          expect(letters).toEqual([]);
          expect([...stored.keys()].sort((a, b) => a - b)).toEqual(
            Array.from({ length: n }, (_, i) => i + 1),
          );
          expect([...stored.values()].filter((c) => c !== 1)).toEqual([]);
          expect(w.stats.written).toBe(n);
        },
      ),
      { numRuns: 40 },
    );
    // 40 runs of real-time retries and look-up bounds: ~15 s alone, past 20 s on a loaded CI machine.
  }, 60_000);

  it('dead-letters a batch the database keeps refusing and carries on with the rest', async () => {
    const written: number[] = [];
    const sink = {
      async insert(batch: readonly Trade[]) {
        if (batch.some((x) => x.seq === 5)) throw new PostgresError('value out of range');
        written.push(...batch.map((x) => x.seq));
      },
    };
    const letters: NewDeadLetter[] = [];
    const w = new TickWriter(sink, (l) => letters.push(l), log, { ...opts, batchRows: 4 });
    w.write(Array.from({ length: 12 }, (_, i) => t(i + 1)));
    await w.flush();
    expect(written).toEqual([1, 2, 3, 4, 9, 10, 11, 12]);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      source: 'store.ticks',
      reason: 'write_rejected',
      detail: 'value out of range',
    });
    expect(((letters[0] as NewDeadLetter).payload as { trades: Trade[] }).trades.map((x) => x.seq)).toEqual([
      5, 6, 7, 8,
    ]);
    expect(w.stats).toMatchObject({ written: 8, deadLettered: 4 });
  });

  it('bounds memory while the database is down: the overflow is dead-lettered, not dropped', async () => {
    const { sink, written } = outage(false);
    const letters: NewDeadLetter[] = [];
    const w = new TickWriter(sink, (l) => letters.push(l), log, { ...opts, maxBufferedRows: 50 });
    for (let s = 1; s <= 80; s += 10) w.write(Array.from({ length: 10 }, (_, i) => t(s + i)));
    expect(w.stats.buffered).toBe(50);
    sink.up = true;
    await w.flush(10_000);
    const lost = letters.flatMap((l) => (l.payload as { trades: Trade[] }).trades.map((x) => x.seq));
    expect(written).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(lost).toEqual(Array.from({ length: 30 }, (_, i) => i + 51));
    expect(letters.every((l) => l.reason === 'write_buffer_overflow')).toBe(true);
  });

  it('at shutdown dead-letters what the database did not take in time, and only that', async () => {
    const { sink, written } = outage(true);
    const letters: NewDeadLetter[] = [];
    const w = new TickWriter(sink, (l) => letters.push(l), log, opts);
    w.write(Array.from({ length: 5 }, (_, i) => t(i + 1)));
    await w.flush();
    sink.up = false;
    w.write(Array.from({ length: 25 }, (_, i) => t(i + 6)));
    await w.close(200);
    expect(written).toEqual([1, 2, 3, 4, 5]);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      source: 'store.ticks',
      reason: 'unwritten_at_shutdown',
      detail: '25 trades could not be written in 200 ms',
    });
    const unwritten = ((letters[0] as NewDeadLetter).payload as { trades: Trade[] }).trades.map((x) => x.seq);
    expect(unwritten.sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i + 6));
    expect(w.stats.buffered).toBe(0);
  });
});
