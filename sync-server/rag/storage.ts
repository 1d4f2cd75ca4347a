import type { Section } from '../shared/assistant.ts';

// What the assistant keeps (migration 005's tables): documents, chunks with their vectors, the
// index state; and the port it keeps them through.

export interface StoredChunk {
  readonly id: string;
  readonly path: string;
  readonly ordinal: number;
  readonly heading: string;
  readonly anchor: string;
  readonly sectionStart: number;
  readonly sectionEnd: number;
  readonly text: string;
  readonly embedding: Float32Array;
}

export interface RagState {
  readonly generation: number;
  readonly embedder: string | undefined;
  readonly chunking: string | undefined;
  readonly idf: Float32Array | undefined;
  readonly fittedChunks: number;
  readonly changedSinceFit: number;
  readonly lastIngestAt: string | undefined;
  readonly lastIngest: unknown;
}

/** What an ingest records: the embedder and chunking it ran with, the fitted IDF, its summary. */
export interface FinishedIngest {
  readonly embedder: string;
  readonly chunking: string;
  readonly idf: Float32Array | undefined;
  readonly fittedChunks: number;
  readonly changedSinceFit: number;
  /** The corpus changed: the index gets the next generation. */
  readonly changed: boolean;
  readonly summary: unknown;
}

/** Where the assistant's corpus and index state are kept: store/rag.ts. */
export interface RagStorage {
  state(): Promise<RagState>;
  generation(): Promise<number>;
  /** path → content hash of every stored document. */
  hashes(): Promise<Map<string, string>>;
  /** Stores a document and exactly these chunks of it, all or nothing. */
  replaceDocument(
    doc: { path: string; hash: string; body: string },
    chunks: readonly Omit<StoredChunk, 'path'>[],
  ): Promise<void>;
  removeDocuments(paths: readonly string[]): Promise<void>;
  chunks(): Promise<StoredChunk[]>;
  /** A section's whole text, for a citation; the document's first section when `anchor` is ''. */
  section(path: string, anchor: string): Promise<Section | undefined>;
  /** Forgets every document and the embedder's state: the next ingest rebuilds the index. */
  reset(): Promise<void>;
  counts(): Promise<{ documents: number; chunks: number }>;
  /** Records an ingest; a changed corpus gets the next generation. */
  finishIngest(s: FinishedIngest): Promise<number>;
}
