import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { CollabStore } from './collab.ts';
import type { Database } from './db.ts';
import { testBackends } from './testing.ts';

// The storage port's cases (access, append, load, compaction), on this store and the in-memory
// one alike, are collab/storage.test.ts; here is what only the SQL store has.

describe.each(testBackends())('CollabStore on $name', (backend) => {
  let db: Database;
  let store: CollabStore;
  let ana: number;
  let bia: number;
  let caio: number;
  beforeAll(async () => {
    db = await backend.open();
    store = new CollabStore(db.sql);
    const users = await db.sql<{ id: string }[]>`
      insert into users (username, password_hash, role)
      values ('ana', 'x', 'trader'), ('bia', 'x', 'trader'), ('caio', 'x', 'viewer') returning id`;
    [ana, bia, caio] = users.map((u) => Number(u.id)) as [number, number, number];
  });
  afterAll(() => db?.close());

  it('creates documents and tells each user their relation: owner, member role or none', async () => {
    const doc = await store.create('watchlist', 'Bancos', ana);
    expect(doc).toMatchObject({ kind: 'watchlist', name: 'Bancos', ownerId: ana, ownerName: 'ana' });
    await store.share(doc.id, bia, 'viewer');
    await store.share(doc.id, bia, 'editor'); // a second share changes the role
    await store.share(doc.id, caio, 'viewer');
    expect((await store.access(doc.id, ana))?.relation).toBe('owner');
    expect((await store.access(doc.id, bia))?.relation).toBe('editor');
    expect((await store.access(doc.id, caio))?.relation).toBe('viewer');
    expect(await store.members(doc.id)).toEqual([
      { userId: bia, username: 'bia', role: 'editor' },
      { userId: caio, username: 'caio', role: 'viewer' },
    ]);
    expect(await store.unshare(doc.id, caio)).toBe(true);
    expect(await store.unshare(doc.id, caio)).toBe(false);
    expect((await store.access(doc.id, caio))?.relation).toBeUndefined();

    await store.create('layout', 'Mesa', bia);
    expect((await store.listFor(bia, 'watchlist')).map((d) => [d.name, d.relation])).toEqual([
      ['Bancos', 'editor'],
    ]);
    expect((await store.listFor(caio, 'watchlist')).length).toBe(0);
    expect((await store.rename(doc.id, 'Bancos grandes'))?.name).toBe('Bancos grandes');
  });

  it('survives deletion only as a soft-deleted row, never given a snapshot back', async () => {
    const doc = await store.create('watchlist', 'Temp', ana);
    const edit = new Y.Doc();
    edit.getArray<string>('tickers').push(['T0']);
    const updates = [Y.encodeStateAsUpdate(edit)];
    await store.append(doc.id, updates);
    expect(await store.remove(doc.id)).toBe(true);
    expect(await store.remove(doc.id)).toBe(false);

    expect(await store.get(doc.id)).toBeUndefined();
    await store.append(doc.id, updates); // a write racing the delete
    await store.compact(doc.id);
    const [snapshot] = await db.sql`select 1 from collab_snapshots where doc_id = ${doc.id}`;
    expect(snapshot).toBeUndefined();
  });
});
