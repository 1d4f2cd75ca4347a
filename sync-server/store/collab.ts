import * as Y from 'yjs';
import type {
  Compaction,
  DocKind,
  DocRelation,
  DocState,
  DocumentRow,
  MemberRole,
  MemberRow,
} from '../collab/model.ts';
import type { Sql } from './db.ts';

// Shared documents, their members, and their CRDT state (append-only updates + a snapshot), in
// SQL: collab/storage.ts's DocumentRepository.

type RawDoc = {
  id: string;
  kind: DocKind;
  name: string;
  owner_id: string;
  owner_name: string;
  created_at: Date;
  updated_at: Date;
};
const toDoc = (r: RawDoc): DocumentRow => ({
  id: Number(r.id),
  kind: r.kind,
  name: r.name,
  ownerId: Number(r.owner_id),
  ownerName: r.owner_name,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});
const bytesOf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/**
 * The collab storage port (collab/storage.ts, whose contract collab/storage.test.ts checks) in
 * PostgreSQL / PGlite, and the documents' names, members and deletion.
 */
export class CollabStore {
  constructor(private readonly sql: Sql) {}

  async create(kind: DocKind, name: string, ownerId: number): Promise<DocumentRow> {
    const [row] = await this.sql<RawDoc[]>`
      with d as (
        insert into collab_documents (kind, name, owner_id) values (${kind}, ${name}, ${ownerId})
        returning *)
      select d.*, u.username as owner_name from d join users u on u.id = d.owner_id`;
    return toDoc(row as RawDoc);
  }

  /** A live (not deleted) document. */
  async get(id: number): Promise<DocumentRow | undefined> {
    const [row] = await this.sql<RawDoc[]>`
      select d.*, u.username as owner_name from collab_documents d join users u on u.id = d.owner_id
      where d.id = ${id} and d.deleted_at is null`;
    return row && toDoc(row);
  }

  /** The document and the user's relation to it; `relation` is undefined for a stranger. */
  async access(
    id: number,
    userId: number,
  ): Promise<{ doc: DocumentRow; relation: DocRelation | undefined } | undefined> {
    const [row] = await this.sql<(RawDoc & { member_role: MemberRole | null })[]>`
      select d.*, u.username as owner_name, m.role as member_role
      from collab_documents d
      join users u on u.id = d.owner_id
      left join collab_members m on m.doc_id = d.id and m.user_id = ${userId}
      where d.id = ${id} and d.deleted_at is null`;
    if (!row) return undefined;
    const doc = toDoc(row);
    return { doc, relation: doc.ownerId === userId ? 'owner' : (row.member_role ?? undefined) };
  }

  /** Documents of a kind the user owns or is a member of, newest first. */
  async listFor(userId: number, kind: DocKind): Promise<(DocumentRow & { relation: DocRelation })[]> {
    const rows = await this.sql<(RawDoc & { relation: DocRelation })[]>`
      select d.*, u.username as owner_name,
             case when d.owner_id = ${userId} then 'owner' else m.role end as relation
      from collab_documents d
      join users u on u.id = d.owner_id
      left join collab_members m on m.doc_id = d.id and m.user_id = ${userId}
      where d.kind = ${kind} and d.deleted_at is null
        and (d.owner_id = ${userId} or m.user_id is not null)
      order by d.updated_at desc, d.id desc`;
    return rows.map((r) => ({ ...toDoc(r), relation: r.relation }));
  }

  async rename(id: number, name: string): Promise<DocumentRow | undefined> {
    await this.sql`
      update collab_documents set name = ${name}, updated_at = now()
      where id = ${id} and deleted_at is null`;
    return this.get(id);
  }

  /** Soft delete: the row stays for audit; its CRDT state is dropped. */
  async remove(id: number): Promise<boolean> {
    return this.sql.begin(async (tx) => {
      const gone = await tx`
        update collab_documents set deleted_at = now(), updated_at = now()
        where id = ${id} and deleted_at is null`;
      if (gone.count === 0) return false;
      await tx`delete from collab_updates where doc_id = ${id}`;
      await tx`delete from collab_snapshots where doc_id = ${id}`;
      await tx`delete from collab_members where doc_id = ${id}`;
      return true;
    });
  }

  async members(id: number): Promise<MemberRow[]> {
    const rows = await this.sql<{ user_id: string; username: string; role: MemberRole }[]>`
      select m.user_id, u.username, m.role from collab_members m join users u on u.id = m.user_id
      where m.doc_id = ${id} order by u.username`;
    return rows.map((r) => ({ userId: Number(r.user_id), username: r.username, role: r.role }));
  }

  /** Adds a member or changes their role. */
  async share(id: number, userId: number, role: MemberRole): Promise<void> {
    await this.sql`
      insert into collab_members (doc_id, user_id, role) values (${id}, ${userId}, ${role})
      on conflict (doc_id, user_id) do update set role = excluded.role`;
    await this.sql`update collab_documents set updated_at = now() where id = ${id}`;
  }

  async unshare(id: number, userId: number): Promise<boolean> {
    const r = await this.sql`delete from collab_members where doc_id = ${id} and user_id = ${userId}`;
    return r.count > 0;
  }

  async userByName(username: string): Promise<{ id: number; disabled: boolean } | undefined> {
    const [row] = await this.sql<{ id: string; disabled_at: Date | null }[]>`
      select id, disabled_at from users where username = ${username}`;
    return row && { id: Number(row.id), disabled: row.disabled_at !== null };
  }

  /** Appends updates in one statement: when it resolves, every one of them is durable. */
  async append(id: number, updates: readonly Uint8Array[]): Promise<void> {
    if (updates.length === 0) return;
    const rows = updates.map((u) => ({ doc_id: id, payload: bytesOf(u) }));
    await this.sql`insert into collab_updates ${this.sql(rows, 'doc_id', 'payload')}`;
  }

  async load(id: number): Promise<DocState> {
    const [snapshot] = await this.sql<{ state: Buffer }[]>`
      select state from collab_snapshots where doc_id = ${id}`;
    // Every remaining row, whatever its id: compaction deletes exactly what it merged.
    const rows = await this.sql<{ payload: Buffer }[]>`
      select payload from collab_updates where doc_id = ${id} order by id`;
    const updates = [...(snapshot ? [snapshot.state] : []), ...rows.map((r) => r.payload)].map(
      (b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
    );
    return { updates, bytes: updates.reduce((n, u) => n + u.byteLength, 0) };
  }

  /**
   * Folds the update log into the snapshot (Y.mergeUpdates). The merge runs outside any
   * transaction, so the connection is not held while it computes; the write is one short
   * transaction that first checks no other compaction committed since the read (the
   * snapshot's `merged_rows` only grows), else leaves the work to that one. It deletes exactly
   * the rows it merged, by id: rows appended meanwhile stay in the log. Compactions of one
   * document queue on its row lock (`for no key update`, which appends' foreign-key checks
   * do not wait for), and a deleted document is never given a snapshot back.
   */
  async compact(id: number): Promise<Compaction> {
    const [snapshot] = await this.sql<{ state: Buffer; merged_rows: string }[]>`
      select state, merged_rows from collab_snapshots where doc_id = ${id}`;
    const rows = await this.sql<{ id: string; payload: Buffer }[]>`
      select id, payload from collab_updates where doc_id = ${id} order by id`;
    if (rows.length === 0) return { merged: 0, bytes: snapshot?.state.byteLength ?? 0 };
    const state = Y.mergeUpdates([...(snapshot ? [snapshot.state] : []), ...rows.map((r) => r.payload)]);
    return this.sql.begin(async (tx) => {
      const [doc] = await tx`
        select id from collab_documents where id = ${id} and deleted_at is null for no key update`;
      if (!doc) return { merged: 0, bytes: 0 };
      const [now] = await tx<{ merged_rows: string }[]>`
        select merged_rows from collab_snapshots where doc_id = ${id}`;
      if (now?.merged_rows !== snapshot?.merged_rows) return { merged: 0, bytes: state.byteLength };
      await tx`
        insert into collab_snapshots (doc_id, state, merged_rows) values (${id}, ${bytesOf(state)}, ${rows.length})
        on conflict (doc_id) do update
          set state = excluded.state, merged_rows = collab_snapshots.merged_rows + excluded.merged_rows,
              compacted_at = now()`;
      await tx`delete from collab_updates where id = any(${rows.map((r) => r.id)}::bigint[])`;
      return { merged: rows.length, bytes: state.byteLength };
    });
  }
}
