import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { CollabStore } from './collab.ts';
import type { Database } from './db.ts';
import { testBackends } from './testing.ts';

/** Builds `count` independent edits of one list, as separate Yjs updates. */
function edits(count: number, prefix: string): { updates: Uint8Array[]; doc: Y.Doc } {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => updates.push(u));
  for (let i = 0; i < count; i++) doc.getArray<string>('tickers').push([`${prefix}${i}`]);
  return { updates, doc };
}

const materialize = (updates: Uint8Array[]) => {
  const doc = new Y.Doc();
  for (const u of updates) Y.applyUpdate(doc, u);
  return doc.getArray<string>('tickers').toArray();
};

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

  it('appends, loads and survives deletion only as a soft-deleted row', async () => {
    const doc = await store.create('watchlist', 'Temp', ana);
    const { updates } = edits(3, 'T');
    await store.append(doc.id, updates);
    const loaded = await store.load(doc.id);
    expect(materialize(loaded.updates)).toEqual(['T0', 'T1', 'T2']);
    expect(loaded.bytes).toBe(updates.reduce((n, u) => n + u.byteLength, 0));
    expect(await store.remove(doc.id)).toBe(true);
    expect(await store.remove(doc.id)).toBe(false);

    expect(await store.get(doc.id)).toBeUndefined();
    expect(await store.access(doc.id, ana)).toBeUndefined();
    expect((await store.load(doc.id)).updates).toEqual([]);
    await store.append(doc.id, updates); // a write racing the delete
    expect(await store.compact(doc.id)).toMatchObject({ merged: 0 });
    const [snapshot] = await db.sql`select 1 from collab_snapshots where doc_id = ${doc.id}`;
    expect(snapshot).toBeUndefined();
  });

  it('compacts the log into one snapshot holding the same state', async () => {
    const doc = await store.create('watchlist', 'Compact', ana);
    const { updates } = edits(50, 'C');
    await store.append(doc.id, updates.slice(0, 20));
    expect(await store.compact(doc.id)).toMatchObject({ merged: 20 });
    await store.append(doc.id, updates.slice(20));
    const before = await store.load(doc.id);
    expect(before.updates).toHaveLength(1 + 30);
    const c = await store.compact(doc.id);
    expect(c.merged).toBe(30);
    const after = await store.load(doc.id);
    expect(after.updates).toHaveLength(1);
    expect(after.bytes).toBe(c.bytes);
    expect(materialize(after.updates)).toEqual(materialize(updates));
    expect(await store.compact(doc.id)).toEqual({ merged: 0, bytes: c.bytes });
  });

  it('loses no update appended while compactions run concurrently', async () => {
    const doc = await store.create('watchlist', 'Race', ana);
    const writers = ['A', 'B', 'C'].map((p) => edits(40, p).updates);
    const appends = writers.map(async (ups) => {
      for (let i = 0; i < ups.length; i += 4) await store.append(doc.id, ups.slice(i, i + 4));
    });
    const compactions = (async () => {
      for (let i = 0; i < 8; i++) await Promise.all([store.compact(doc.id), store.compact(doc.id)]);
    })();
    await Promise.all([...appends, compactions]);
    await store.compact(doc.id);
    const state = materialize((await store.load(doc.id)).updates);
    expect(state).toHaveLength(120);
    for (const ups of writers) {
      const mine = materialize(ups);
      expect(state.filter((t) => t.startsWith(mine[0]?.[0] as string))).toEqual(mine);
    }
  });
});
