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

  it('filters by source, reason, status and time, and counts the open ones per source and reason', async () => {
    await dlq.add([
      { source: 'store.ticks', reason: 'write_failed', detail: 'x', payload: { n: 1 } },
      { source: 'store.ticks', reason: 'write_rejected', detail: 'x', payload: { n: 2 } },
    ]);
    const [store] = await dlq.list({ source: 'store.ticks', reason: 'write_failed', limit: 10 });
    expect(store).toMatchObject({ source: 'store.ticks', reason: 'write_failed' });
    await dlq.resolve(store?.id as number, 'redriven');
    expect((await dlq.list({ source: 'store.ticks', limit: 10 })).map((l) => l.reason)).toEqual([
      'write_rejected',
    ]);
    expect(await dlq.list({ source: 'store.ticks', status: 'resolved', limit: 10 })).toMatchObject([
      { id: store?.id, resolution: 'redriven' },
    ]);
    expect(await dlq.list({ source: 'store.ticks', status: 'all', limit: 10 })).toHaveLength(2);
    const seen = Date.parse(store?.lastSeen as string);
    const at = (ms: number) => new Date(ms).toISOString();
    expect(await dlq.list({ status: 'all', from: at(seen + 60_000), limit: 10 })).toEqual([]);
    expect(await dlq.list({ status: 'all', to: at(seen - 60_000), limit: 10 })).toEqual([]);
    expect(
      await dlq.list({ status: 'all', source: 'store.ticks', from: at(seen - 60_000), limit: 10 }),
    ).toHaveLength(2);
    // Resolved letters are not counted; the counts follow the source filter, not the reason.
    expect(await dlq.counts({ source: 'store.ticks' })).toEqual([
      { source: 'store.ticks', reason: 'write_rejected', count: 1 },
    ]);
    expect(await dlq.counts({ source: 'store.ticks', to: at(seen - 60_000) })).toEqual([]);
    const all = await dlq.counts({});
    expect(all.reduce((n, c) => n + c.count, 0)).toBe(await dlq.countOpen());
  });

  it('pages by (last seen, id) to the microsecond: a letter seen again moves to the top', async () => {
    const letters = [1, 2, 3, 4, 5].map((n) => ({
      source: 'paging',
      reason: 'r',
      detail: 'd',
      payload: { n },
    }));
    for (const l of letters) await dlq.add([l]);
    const all = await dlq.page({ source: 'paging', limit: 10 });
    expect(all.map((k) => (k.letter.payload as { n: number }).n)).toEqual([5, 4, 3, 2, 1]);
    // The key keeps what the millisecond ISO of `lastSeen` drops.
    expect(all[0]?.key.lastSeen).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const rest = await dlq.page({ source: 'paging', limit: 10, after: all[1]?.key });
    expect(rest.map((k) => k.letter.id)).toEqual(all.slice(2).map((k) => k.letter.id));
    await dlq.add([letters[0] as (typeof letters)[number]]);
    const again = await dlq.list({ source: 'paging', limit: 1 });
    expect(again[0]).toMatchObject({ payload: { n: 1 }, attempts: 2 });
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
