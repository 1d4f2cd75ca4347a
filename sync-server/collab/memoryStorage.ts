import * as Y from 'yjs';
import type { Compaction, DocKind, DocRelation, DocState, DocumentRow, MemberRole } from './model.ts';
import type { CollabStorage } from './storage.ts';

// The storage port in memory, kept as store/collab.ts keeps it in the database: documents with
// an owner and members, ids counted from 1, a snapshot and the log appended after it, deleted
// documents kept as tombstones. For tests that need rooms without a database.

interface MemoryDoc {
  readonly row: DocumentRow;
  readonly members: Map<number, MemberRole>;
  snapshot: Uint8Array | undefined;
  log: Uint8Array[];
  deleted: boolean;
}

export class MemoryDocStore implements CollabStorage {
  private readonly users = new Map<number, string>();
  private readonly docs = new Map<number, MemoryDoc>();

  /** A user who can own documents and be shared them; returns their id. */
  addUser(username: string): number {
    const id = this.users.size + 1;
    this.users.set(id, username);
    return id;
  }

  async create(kind: DocKind, name: string, ownerId: number): Promise<DocumentRow> {
    const ownerName = this.users.get(ownerId);
    if (ownerName === undefined) throw new Error(`no user ${ownerId}`);
    const now = new Date().toISOString();
    const row = { id: this.docs.size + 1, kind, name, ownerId, ownerName, createdAt: now, updatedAt: now };
    this.docs.set(row.id, { row, members: new Map(), snapshot: undefined, log: [], deleted: false });
    return row;
  }

  /** Adds a member or changes their role. */
  async share(id: number, userId: number, role: MemberRole): Promise<void> {
    this.doc(id).members.set(userId, role);
  }

  /** The document stays as a tombstone; its members and state are dropped. */
  async remove(id: number): Promise<boolean> {
    const doc = this.docs.get(id);
    if (!doc || doc.deleted) return false;
    doc.deleted = true;
    doc.snapshot = undefined;
    doc.log = [];
    doc.members.clear();
    return true;
  }

  async access(
    id: number,
    userId: number,
  ): Promise<{ doc: DocumentRow; relation: DocRelation | undefined } | undefined> {
    const doc = this.docs.get(id);
    if (!doc || doc.deleted) return undefined;
    return { doc: doc.row, relation: doc.row.ownerId === userId ? 'owner' : doc.members.get(userId) };
  }

  async load(id: number): Promise<DocState> {
    const doc = this.docs.get(id);
    const updates = doc ? [...(doc.snapshot ? [doc.snapshot] : []), ...doc.log] : [];
    return { updates, bytes: updates.reduce((n, u) => n + u.byteLength, 0) };
  }

  async append(id: number, updates: readonly Uint8Array[]): Promise<void> {
    if (updates.length === 0) return;
    // A tombstone takes them, as the database's row does a write racing the delete.
    this.doc(id).log.push(...updates.map((u) => u.slice()));
  }

  async compact(id: number): Promise<Compaction> {
    const doc = this.docs.get(id);
    if (!doc || doc.log.length === 0) return { merged: 0, bytes: doc?.snapshot?.byteLength ?? 0 };
    if (doc.deleted) return { merged: 0, bytes: 0 };
    const merged = doc.log.length;
    doc.snapshot = Y.mergeUpdates([...(doc.snapshot ? [doc.snapshot] : []), ...doc.log]);
    doc.log = [];
    return { merged, bytes: doc.snapshot.byteLength };
  }

  private doc(id: number): MemoryDoc {
    const doc = this.docs.get(id);
    if (!doc) throw new Error(`no document ${id}`);
    return doc;
  }
}
