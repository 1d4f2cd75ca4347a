import type { Compaction, DocRelation, DocState, DocumentRow } from '../store/collab.ts';

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
