import type {
  Compaction,
  DocKind,
  DocRelation,
  DocState,
  DocumentRow,
  MemberRole,
  MemberRow,
} from './model.ts';

// The port the rooms store documents through, as tldraw's TLSyncStorage: who may open one, its
// stored state, appends and compaction. Its implementations, held to one contract by
// storage.test.ts: CollabStore (store/collab.ts, PostgreSQL / PGlite) and MemoryDocStore
// (memoryStorage.ts).

export interface CollabStorage {
  /** The live document and the user's relation to it (undefined: a stranger); undefined when deleted or unknown. */
  access(
    id: number,
    userId: number,
  ): Promise<{ doc: DocumentRow; relation: DocRelation | undefined } | undefined>;
  /** The snapshot (if any), then every update appended after it. */
  load(id: number): Promise<DocState>;
  /** Stores the updates as one write: when it resolves, every one is durable. */
  append(id: number, updates: readonly Uint8Array[]): Promise<void>;
  /** Folds the log into the snapshot; an update appended meanwhile stays in the log. */
  compact(id: number): Promise<Compaction>;
}

/**
 * The rooms' storage and the documents' own records: names, members, deletion, and who a
 * user is (documents.ts). CollabStore (store/collab.ts) implements it.
 */
export interface DocumentRepository extends CollabStorage {
  create(kind: DocKind, name: string, ownerId: number): Promise<DocumentRow>;
  /** The user's documents of a kind, with the user's relation to each. */
  listFor(userId: number, kind: DocKind): Promise<(DocumentRow & { relation: DocRelation })[]>;
  /** Undefined when there is no such document. */
  rename(id: number, name: string): Promise<DocumentRow | undefined>;
  /** False when there was no such document. */
  remove(id: number): Promise<boolean>;
  members(id: number): Promise<MemberRow[]>;
  share(id: number, userId: number, role: MemberRole): Promise<void>;
  /** False when the user was not a member. */
  unshare(id: number, userId: number): Promise<boolean>;
  userByName(username: string): Promise<{ id: number; disabled: boolean } | undefined>;
}
