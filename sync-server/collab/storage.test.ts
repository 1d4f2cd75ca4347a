import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { CollabStore } from '../store/collab.ts';
import { createTestUser, testBackends } from '../store/testing.ts';
import { MemoryDocStore } from './memoryStorage.ts';
import type { CollabStorage } from './storage.ts';

// The storage port's contract: the same cases on every implementation (in memory, and the SQL
// store on PGlite and, with DATABASE_URL, PostgreSQL). What only the SQL store has (members,
// lists, renames, its tables) is tested in store/collab.test.ts.

/** The port, and what a test needs to set up documents (both implementations have it). */
type Storage = CollabStorage & Pick<CollabStore, 'create' | 'share' | 'remove'>;

interface Subject {
  readonly store: Storage;
  user(username: string): Promise<number>;
  close(): Promise<void>;
}

const subjects: { name: string; open(): Promise<Subject> }[] = [
  {
    name: 'memory',
    async open() {
      const store = new MemoryDocStore();
      return { store, user: async (username) => store.addUser(username), close: async () => {} };
    },
  },
  ...testBackends().map((backend) => ({
    name: `SQL on ${backend.name}`,
    async open(): Promise<Subject> {
      const db = await backend.open();
      return {
        store: new CollabStore(db.sql),
        user: (username) => createTestUser(db, username),
        close: () => db.close(),
      };
    },
  })),
];

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

describe.each(subjects)('collab storage: $name', (subject) => {
  let s: Subject;
  let store: Storage;
  /** The users' ids. */
  const users = { ana: 0, bia: 0, caio: 0, dora: 0 };
  beforeAll(async () => {
    s = await subject.open();
    store = s.store;
    for (const name of Object.keys(users) as (keyof typeof users)[]) users[name] = await s.user(name);
  });
  afterAll(() => s?.close());

  it('gives each user the document and their relation: owner, member role or none', async () => {
    const doc = await store.create('watchlist', 'Bancos', users.ana);
    await store.share(doc.id, users.bia, 'editor');
    await store.share(doc.id, users.caio, 'viewer');
    expect(await store.access(doc.id, users.ana)).toMatchObject({
      doc: { id: doc.id, kind: 'watchlist', name: 'Bancos', ownerId: users.ana, ownerName: 'ana' },
      relation: 'owner',
    });
    expect((await store.access(doc.id, users.bia))?.relation).toBe('editor');
    expect((await store.access(doc.id, users.caio))?.relation).toBe('viewer');
    const stranger = await store.access(doc.id, users.dora);
    expect(stranger?.doc.id).toBe(doc.id);
    expect(stranger?.relation).toBeUndefined();
    expect(await store.access(doc.id + 1_000_000, users.ana)).toBeUndefined();
  });

  it('appends and loads: every update, and the bytes they weigh', async () => {
    const doc = await store.create('watchlist', 'Temp', users.ana);
    expect(await store.load(doc.id)).toEqual({ updates: [], bytes: 0 });
    const { updates } = edits(3, 'T');
    await store.append(doc.id, updates.slice(0, 1));
    await store.append(doc.id, updates.slice(1));
    await store.append(doc.id, []);
    const loaded = await store.load(doc.id);
    expect(materialize(loaded.updates)).toEqual(['T0', 'T1', 'T2']);
    expect(loaded.bytes).toBe(updates.reduce((n, u) => n + u.byteLength, 0));
  });

  it('refuses updates for a document that never existed', async () => {
    await expect(store.append(1_000_000, edits(1, 'X').updates)).rejects.toThrow();
  });

  it('forgets a deleted document, and never compacts a write racing the delete into it', async () => {
    const doc = await store.create('watchlist', 'Gone', users.ana);
    const { updates } = edits(3, 'G');
    await store.append(doc.id, updates);
    expect(await store.compact(doc.id)).toMatchObject({ merged: 3 });
    await store.append(doc.id, updates);
    expect(await store.remove(doc.id)).toBe(true);
    expect(await store.access(doc.id, users.ana)).toBeUndefined();
    expect((await store.load(doc.id)).updates).toEqual([]);
    await store.append(doc.id, updates); // a write racing the delete
    expect(await store.compact(doc.id)).toMatchObject({ merged: 0 });
    expect(await store.access(doc.id, users.ana)).toBeUndefined();
  });

  it('compacts the log into one snapshot holding the same state', async () => {
    const doc = await store.create('watchlist', 'Compact', users.ana);
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
    const doc = await store.create('watchlist', 'Race', users.ana);
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
