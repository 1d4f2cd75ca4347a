import { createHash } from 'node:crypto';
import { QdrantClient } from '@qdrant/js-client-rest';
import type { VectorIndexKind } from '../shared/assistant.ts';
import type { Scored } from './bm25.ts';
import { dot } from './embed.ts';
import type { StoredChunk } from './storage.ts';

// The vector index port and its two adapters, side by side. The chunks and their vectors are
// always in the database (rag_chunks): the embedded index searches them in process; Qdrant,
// when QDRANT_URL is set, holds a copy for search at scale, and can be refilled from the
// database without embedding anything again.

export interface VectorPoint {
  /** The chunk id (`docs/x.md#3`). */
  readonly id: string;
  readonly path: string;
  readonly heading: string;
  readonly anchor: string;
  readonly vector: Float32Array;
}

export interface VectorFilter {
  /** Only chunks of these documents. */
  readonly paths?: readonly string[] | undefined;
}

export interface VectorIndex {
  readonly kind: VectorIndexKind;
  /** Makes the index ready for vectors of `dim`; `reset` empties it (the embedder changed). */
  prepare(dim: number, reset: boolean): Promise<void>;
  /** Makes `points` the document's only points. */
  replace(path: string, points: readonly VectorPoint[]): Promise<void>;
  remove(paths: readonly string[]): Promise<void>;
  /** Nearest chunks by cosine (vectors are unit length), best first. */
  search(vector: Float32Array, k: number, filter?: VectorFilter): Promise<Scored[]>;
  /** Points held: ingest compares it with the database and refills a lagging index. */
  count(): Promise<number>;
  healthy(): Promise<boolean>;
}

/** The embedded index: a scan over the vectors of the current chunks (loaded from the database). */
export function databaseIndex(chunks: () => Promise<readonly StoredChunk[]>): VectorIndex {
  return {
    kind: 'database',
    prepare: async () => {},
    replace: async () => {},
    remove: async () => {},
    async search(vector, k, filter) {
      const only = filter?.paths && new Set(filter.paths);
      const scored: Scored[] = [];
      for (const c of await chunks()) {
        if (only && !only.has(c.path)) continue;
        if (c.embedding.length === vector.length) scored.push({ id: c.id, score: dot(vector, c.embedding) });
      }
      return scored.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1)).slice(0, k);
    },
    count: async () => (await chunks()).length,
    healthy: async () => true,
  };
}

export interface QdrantOptions {
  readonly url: string;
  readonly apiKey?: string | undefined;
  readonly collection?: string;
  readonly timeoutMs?: number;
}

/** Qdrant point ids are integers or UUIDs: a UUID made from the chunk id. */
export function pointId(chunkId: string): string {
  const h = createHash('sha256').update(chunkId).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

const UPSERT_BATCH = 256;

export function qdrantIndex(opts: QdrantOptions): VectorIndex {
  const collection = opts.collection ?? 'tape_docs';
  const client = new QdrantClient({
    url: opts.url,
    apiKey: opts.apiKey,
    timeout: opts.timeoutMs ?? 10_000,
    // The version probe only prints to the console; health is reported by `healthy()`.
    checkCompatibility: false,
  });
  const byPath = (paths: readonly string[]) => ({
    must: [{ key: 'path', match: paths.length === 1 ? { value: paths[0] as string } : { any: [...paths] } }],
  });
  return {
    kind: 'qdrant',
    async prepare(dim, reset) {
      let exists = (await client.collectionExists(collection)).exists;
      if (exists) {
        const info = await client.getCollection(collection);
        const size = (info.config.params.vectors as { size?: number } | undefined)?.size;
        if (reset || size !== dim) {
          await client.deleteCollection(collection);
          exists = false;
        }
      }
      if (!exists) {
        await client.createCollection(collection, { vectors: { size: dim, distance: 'Cosine' } });
        await client.createPayloadIndex(collection, {
          field_name: 'path',
          field_schema: 'keyword',
          wait: true,
        });
      }
    },
    async replace(path, points) {
      for (let i = 0; i < points.length; i += UPSERT_BATCH) {
        await client.upsert(collection, {
          wait: true,
          points: points.slice(i, i + UPSERT_BATCH).map((p) => ({
            id: pointId(p.id),
            vector: Array.from(p.vector),
            payload: { chunk: p.id, path: p.path, heading: p.heading, anchor: p.anchor },
          })),
        });
      }
      // Upsert first, then drop the document's other points: no moment without its points.
      await client.delete(collection, {
        wait: true,
        filter: { ...byPath([path]), must_not: [{ has_id: points.map((p) => pointId(p.id)) }] },
      });
    },
    async remove(paths) {
      if (paths.length > 0) await client.delete(collection, { wait: true, filter: byPath(paths) });
    },
    async search(vector, k, filter) {
      const res = await client.query(collection, {
        query: Array.from(vector),
        limit: k,
        with_payload: ['chunk'],
        ...(filter?.paths ? { filter: byPath(filter.paths) } : {}),
      });
      return res.points.flatMap((p) => {
        const chunk = p.payload?.chunk;
        return typeof chunk === 'string' ? [{ id: chunk, score: p.score }] : [];
      });
    },
    async count() {
      return (await client.count(collection, { exact: true })).count;
    },
    async healthy() {
      return client.collectionExists(collection).then(
        () => true,
        () => false,
      );
    },
  };
}
