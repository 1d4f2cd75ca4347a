import { bytesVector, vectorBytes } from '../rag/embed.ts';
import type { FinishedIngest, RagState, RagStorage, StoredChunk } from '../rag/storage.ts';
import type { Section } from '../shared/assistant.ts';
import type { Sql } from './db.ts';

type RawChunk = {
  id: string;
  path: string;
  ordinal: number;
  heading: string;
  anchor: string;
  section_start: number;
  section_end: number;
  body: string;
  embedding: Buffer;
};

/** The rag_documents, rag_chunks and rag_state tables: rag/storage.ts's RagStorage. */
export class RagStore implements RagStorage {
  constructor(private readonly sql: Sql) {}

  async state(): Promise<RagState> {
    const [r] = await this.sql<
      {
        generation: string;
        embedder: string | null;
        chunking: string | null;
        idf: Buffer | null;
        fitted_chunks: number;
        changed_since_fit: number;
        last_ingest_at: Date | null;
        last_ingest: unknown;
      }[]
    >`select * from rag_state where id = 1`;
    if (!r) throw new Error('rag_state is empty: run the migrations');
    return {
      generation: Number(r.generation),
      embedder: r.embedder ?? undefined,
      chunking: r.chunking ?? undefined,
      idf: r.idf ? bytesVector(r.idf) : undefined,
      fittedChunks: r.fitted_chunks,
      changedSinceFit: r.changed_since_fit,
      lastIngestAt: r.last_ingest_at?.toISOString(),
      lastIngest: r.last_ingest ?? undefined,
    };
  }

  async generation(): Promise<number> {
    const [r] = await this.sql<{ generation: string }[]>`select generation from rag_state where id = 1`;
    return Number(r?.generation ?? 0);
  }

  async hashes(): Promise<Map<string, string>> {
    const rows = await this.sql<{ path: string; hash: string }[]>`select path, hash from rag_documents`;
    return new Map(rows.map((r) => [r.path, r.hash]));
  }

  async replaceDocument(
    doc: { path: string; hash: string; body: string },
    chunks: readonly Omit<StoredChunk, 'path'>[],
  ): Promise<void> {
    await this.sql.begin(async (tx) => {
      await tx`
        insert into rag_documents (path, hash, body) values (${doc.path}, ${doc.hash}, ${doc.body})
        on conflict (path) do update set hash = excluded.hash, body = excluded.body, ingested_at = now()`;
      await tx`delete from rag_chunks where path = ${doc.path}`;
      if (chunks.length === 0) return;
      const rows = chunks.map((c) => ({
        id: c.id,
        path: doc.path,
        ordinal: c.ordinal,
        heading: c.heading,
        anchor: c.anchor,
        section_start: c.sectionStart,
        section_end: c.sectionEnd,
        body: c.text,
        embedding: vectorBytes(c.embedding),
      }));
      await tx`insert into rag_chunks ${tx(rows)}`;
    });
  }

  async removeDocuments(paths: readonly string[]): Promise<void> {
    if (paths.length > 0) await this.sql`delete from rag_documents where path = any(${paths as string[]})`;
  }

  async chunks(): Promise<StoredChunk[]> {
    const rows = await this.sql<RawChunk[]>`select * from rag_chunks order by path, ordinal`;
    return rows.map((r) => ({
      id: r.id,
      path: r.path,
      ordinal: r.ordinal,
      heading: r.heading,
      anchor: r.anchor,
      sectionStart: r.section_start,
      sectionEnd: r.section_end,
      text: r.body,
      embedding: bytesVector(r.embedding),
    }));
  }

  async section(path: string, anchor: string): Promise<Section | undefined> {
    const [r] = await this.sql<{ heading: string; anchor: string; text: string }[]>`
      select c.heading, c.anchor, substr(d.body, c.section_start + 1, c.section_end - c.section_start) as text
      from rag_chunks c join rag_documents d on d.path = c.path
      where c.path = ${path} and (${anchor} = '' or c.anchor = ${anchor})
      order by c.ordinal limit 1`;
    return r && { path, heading: r.heading, anchor: r.anchor, text: r.text };
  }

  async reset(): Promise<void> {
    await this.sql.begin(async (tx) => {
      await tx`delete from rag_documents`;
      await tx`update rag_state set generation = generation + 1, embedder = null, chunking = null, idf = null,
        fitted_chunks = 0, changed_since_fit = 0`;
    });
  }

  async counts(): Promise<{ documents: number; chunks: number }> {
    const [r] = await this.sql<{ documents: string; chunks: string }[]>`
      select (select count(*) from rag_documents) as documents, (select count(*) from rag_chunks) as chunks`;
    return { documents: Number(r?.documents ?? 0), chunks: Number(r?.chunks ?? 0) };
  }

  async finishIngest(s: FinishedIngest): Promise<number> {
    const [r] = await this.sql<{ generation: string }[]>`
      update rag_state set
        generation = generation + ${s.changed ? 1 : 0},
        embedder = ${s.embedder},
        chunking = ${s.chunking},
        idf = ${s.idf ? vectorBytes(s.idf) : null},
        fitted_chunks = ${s.fittedChunks},
        changed_since_fit = ${s.changedSinceFit},
        last_ingest_at = now(),
        last_ingest = ${this.sql.json(s.summary as never)}
      where id = 1
      returning generation`;
    return Number(r?.generation ?? 0);
  }
}
