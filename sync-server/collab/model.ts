// Shared documents as the collab capability knows them: their kinds, who may do what with one,
// and their stored CRDT state. store/collab.ts keeps them in SQL, memoryStorage.ts in memory.

export const DOC_KINDS = ['watchlist', 'layout', 'note'] as const;
export type DocKind = (typeof DOC_KINDS)[number];
export const MEMBER_ROLES = ['editor', 'viewer'] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];
/** A user's relation to a document: its owner, a member, or none. */
export type DocRelation = 'owner' | MemberRole;

export interface DocumentRow {
  readonly id: number;
  readonly kind: DocKind;
  readonly name: string;
  readonly ownerId: number;
  readonly ownerName: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface MemberRow {
  readonly userId: number;
  readonly username: string;
  readonly role: MemberRole;
}

export interface DocState {
  /** The snapshot (if any) first, then every update appended after the last compaction. */
  readonly updates: Uint8Array[];
  /** Stored bytes: what the document weighs before the next compaction. */
  readonly bytes: number;
}

export interface Compaction {
  /** Update rows folded into the snapshot (0: nothing to do). */
  readonly merged: number;
  /** Size of the snapshot afterwards. */
  readonly bytes: number;
}
