import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeadLetterQueue, type DeadLetterStorage, LettersRefused, type NewDeadLetter } from './queue.ts';

const letter = (n: number): NewDeadLetter => ({
  source: 'test',
  reason: 'r',
  detail: `d${n}`,
  payload: { n },
});

describe('DeadLetterQueue', () => {
  it('spills to a local file while the database is down and moves the spill in when it returns', async () => {
    const spillPath = join(mkdtempSync(join(tmpdir(), 'tape-dlq-')), 'spill.ndjson');
    let up = false;
    const stored: NewDeadLetter[] = [];
    const store = {
      async add(letters: readonly NewDeadLetter[]) {
        if (!up) throw new Error('ECONNREFUSED');
        stored.push(...letters);
      },
    } as unknown as DeadLetterStorage;
    const errors: string[] = [];
    const q = new DeadLetterQueue(store, { spillPath, onError: (e) => errors.push(e.message) });
    q.add(letter(1));
    q.add(letter(2));
    await q.flush();
    expect(stored).toEqual([]);
    expect(readFileSync(spillPath, 'utf8').trim().split('\n')).toHaveLength(2);
    expect(errors).toEqual(['ECONNREFUSED']);
    up = true;
    q.add(letter(3));
    await q.flush();
    expect(stored.map((l) => (l.payload as { n: number }).n)).toEqual([1, 2, 3]);
    expect(existsSync(spillPath)).toBe(false);
  });

  it('keeps a letter the database refuses in <spill>.rejected and stores the others', async () => {
    const spillPath = join(mkdtempSync(join(tmpdir(), 'tape-dlq-')), 'spill.ndjson');
    const stored: NewDeadLetter[] = [];
    const store = {
      async add(letters: readonly NewDeadLetter[]) {
        if (letters.some((l) => (l.payload as { n: number }).n === 2))
          throw new LettersRefused('bad payload');
        stored.push(...letters);
      },
    } as unknown as DeadLetterStorage;
    const errors: string[] = [];
    const q = new DeadLetterQueue(store, { spillPath, onError: (e) => errors.push(e.message) });
    for (const n of [1, 2, 3]) q.add(letter(n));
    await q.flush();
    expect(stored.map((l) => (l.payload as { n: number }).n)).toEqual([1, 3]);
    expect(readFileSync(`${spillPath}.rejected`, 'utf8')).toBe(`${JSON.stringify(letter(2))}\n`);
    expect(existsSync(spillPath)).toBe(false);
    expect(q.spilled).toBe(0);
    expect(errors).toEqual([`1 dead letters refused by the database: kept in ${spillPath}.rejected`]);
  });
});
