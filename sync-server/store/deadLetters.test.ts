import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LettersRefused } from '../deadLetters/queue.ts';
import type { Database } from './db.ts';
import { DeadLetterStore } from './deadLetters.ts';
import { testBackends } from './testing.ts';

describe.each(testBackends())('DeadLetterStore on $name', (backend) => {
  let db: Database;
  let dlq: DeadLetterStore;
  beforeAll(async () => {
    db = await backend.open();
    dlq = new DeadLetterStore(db.sql);
  });
  afterAll(() => db?.close());

  it('keeps every letter with its reason and payload, counting repeats as attempts', async () => {
    const bad = {
      source: 'profitdll.trade',
      reason: 'bad_price',
      detail: 'price NaN',
      payload: { ticker: 'PETR4', price: 'NaN' },
    };
    await dlq.add([bad, { ...bad, payload: { ticker: 'VALE3', price: -1 } }]);
    await dlq.add([{ ...bad, detail: 'price NaN again' }]);
    const rows = await dlq.list({ limit: 10 });
    expect(rows).toHaveLength(2);
    const petr = rows.find((r) => (r.payload as { ticker: string }).ticker === 'PETR4');
    expect(petr).toMatchObject({
      reason: 'bad_price',
      attempts: 2,
      detail: 'price NaN again',
      resolvedAt: null,
    });
    expect(await dlq.countOpen()).toBe(2);
  });

  it('filters by source, pages by id and hides resolved letters unless asked', async () => {
    await dlq.add([{ source: 'store.ticks', reason: 'write_failed', detail: 'x', payload: { n: 1 } }]);
    const [store] = await dlq.list({ source: 'store.ticks', limit: 10 });
    expect(store?.source).toBe('store.ticks');
    await dlq.resolve(store?.id as number, 'redriven');
    expect(await dlq.list({ source: 'store.ticks', limit: 10 })).toHaveLength(0);
    expect(await dlq.list({ source: 'store.ticks', limit: 10, includeResolved: true })).toHaveLength(1);
    const all = await dlq.list({ limit: 10, includeResolved: true });
    const older = await dlq.list({ limit: 10, includeResolved: true, beforeId: all[0]?.id });
    expect(older.map((r) => r.id)).toEqual(all.slice(1).map((r) => r.id));
  });

  it('rejects letters the database refuses with LettersRefused, and stores none of that statement', async () => {
    const before = await dlq.countOpen();
    // A letter without a source: the column is not null.
    const refused = dlq.add([
      { source: 'test', reason: 'r', detail: 'ok', payload: { n: 1 } },
      { source: null as unknown as string, reason: 'r', detail: 'bad', payload: { n: 2 } },
    ]);
    await expect(refused).rejects.toBeInstanceOf(LettersRefused);
    await expect(refused).rejects.toMatchObject({ cause: { name: 'PostgresError', code: '23502' } });
    expect(await dlq.countOpen()).toBe(before);
  });
});
