import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Logger } from '../log.ts';
import { type Chunk, type ChunkOptions, chunkingId, chunkMarkdown, DEFAULT_CHUNKING } from './chunker.ts';
import { type Embedder, fitIdf, LEXICAL_ID, lexicalEmbedder } from './embed.ts';
import type { VectorIndex } from './index.ts';
import { type Progress, silentProgress } from './progress.ts';
import type { RagStorage, StoredChunk } from './storage.ts';

// Markdown directories → chunks → embeddings → database and vector index, incrementally: a
// file is embedded again only when its content hash changed (or the embedder did); a file that
// is gone is removed. A file (or a whole directory) that cannot be read is reported and its
// stored version kept: bad input loses nothing and stops nothing else.

/** A directory of markdown; its documents are named `<label>/<path inside dir>`. */
export interface DocSource {
  readonly label: string;
  readonly dir: string;
}

/** `lexical` fits its IDF on the corpus; any other embedder is used as it is. */
export type Embedding = 'lexical' | Embedder;

export interface IngestDeps {
  readonly store: RagStorage;
  readonly index: VectorIndex;
  readonly embedding: Embedding;
  readonly sources: readonly DocSource[];
  readonly progress?: Progress;
  readonly log?: Logger;
  readonly chunking?: ChunkOptions;
  /** Stops between files (server shutdown); what was done stays done. */
  readonly signal?: AbortSignal | undefined;
  /** Share of changed chunks that refits the lexical IDF (default REFIT_SHARE). */
  readonly refitShare?: number;
}

export interface IngestSummary {
  readonly files: number;
  readonly added: number;
  readonly updated: number;
  readonly removed: number;
  readonly unchanged: number;
  readonly chunks: number;
  readonly embeddedChunks: number;
  /** The lexical IDF was fitted again, so every chunk was embedded again. */
  readonly refit: boolean;
  /** The vector index lagged the database and was refilled from it. */
  readonly refilled: boolean;
  readonly errors: readonly { readonly path: string; readonly message: string }[];
  readonly aborted: boolean;
  readonly generation: number;
  readonly ms: number;
}

/** The lexical IDF is fitted again once this share of the corpus's chunks changed. */
export const REFIT_SHARE = 0.2;
export const MAX_FILE_BYTES = 5 * 1024 * 1024;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
/** What a chunk is embedded as: its heading trail gives a short chunk its subject. */
export const embedText = (c: { heading: string; text: string }) => `${c.heading}\n${c.text}`;

interface Found {
  readonly path: string;
  readonly file: string;
}

async function listMarkdown(
  source: DocSource,
  errors: { path: string; message: string }[],
): Promise<Found[] | undefined> {
  const out: Found[] = [];
  const walk = async (dir: string): Promise<boolean> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      errors.push({ path: dir, message: `cannot list the directory: ${(err as Error).message}` });
      return false;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const full = join(dir, e.name);
      if (e.isDirectory()) {
        if (!(await walk(full))) return false;
      } else if ((e.isFile() || e.isSymbolicLink()) && e.name.toLowerCase().endsWith('.md')) {
        out.push({ path: `${source.label}/${relative(source.dir, full).split(sep).join('/')}`, file: full });
      }
    }
    return true;
  };
  return (await walk(source.dir)) ? out : undefined;
}

async function readDoc(f: Found): Promise<string> {
  const s = await stat(f.file);
  if (s.size > MAX_FILE_BYTES) throw new Error(`over ${MAX_FILE_BYTES} bytes: split it`);
  return readFile(f.file, 'utf8');
}

export async function ingest(deps: IngestDeps): Promise<IngestSummary> {
  const t0 = Date.now();
  const progress = deps.progress ?? silentProgress;
  const errors: { path: string; message: string }[] = [];
  const chunking = deps.chunking ?? DEFAULT_CHUNKING;

  // 1. Read every document; what cannot be read is kept as stored.
  const keep = new Set<string>(); // stored paths we could not check
  const unlistable: string[] = []; // labels whose directory could not be listed
  const docs: { path: string; body: string; hash: string; chunks: Chunk[] }[] = [];
  for (const source of deps.sources) {
    const found = await listMarkdown(source, errors);
    if (!found) {
      unlistable.push(`${source.label}/`);
      continue;
    }
    for (const f of found) {
      try {
        const body = await readDoc(f);
        docs.push({ path: f.path, body, hash: sha256(body), chunks: chunkMarkdown(f.path, body, chunking) });
      } catch (err) {
        errors.push({ path: f.path, message: `cannot read: ${(err as Error).message}` });
        keep.add(f.path);
      }
    }
  }
  const stored = await deps.store.hashes();
  const state = await deps.store.state();
  for (const p of stored.keys()) if (unlistable.some((u) => p.startsWith(u))) keep.add(p);

  const changed = docs.filter((d) => stored.get(d.path) !== d.hash);
  const present = new Set(docs.map((d) => d.path));
  const removed = [...stored.keys()].filter((p) => !present.has(p) && !keep.has(p));

  // 2. The embedder: the lexical one is refitted once enough of the corpus changed. Another
  // chunker (or chunk sizes) cuts every document again.
  const cutting = chunkingId(chunking);
  const rechunk = state.chunking !== cutting;
  let embedder: Embedder;
  let idf: Float32Array | undefined;
  let refit = false;
  let fittedChunks = state.fittedChunks;
  let changedSinceFit = state.changedSinceFit;
  const totalChunks = docs.reduce((n, d) => n + d.chunks.length, 0);
  const changedChunks = changed.reduce((n, d) => n + d.chunks.length, 0) + removed.length;
  if (deps.embedding === 'lexical') {
    refit =
      !state.idf ||
      rechunk ||
      state.embedder !== LEXICAL_ID ||
      state.changedSinceFit + changedChunks >
        (deps.refitShare ?? REFIT_SHARE) * Math.max(state.fittedChunks, 1);
    if (refit) {
      idf = fitIdf(docs.flatMap((d) => d.chunks.map(embedText)));
      fittedChunks = totalChunks;
      changedSinceFit = 0;
    } else {
      idf = state.idf as Float32Array;
      changedSinceFit += changedChunks;
    }
    embedder = lexicalEmbedder(idf);
  } else {
    embedder = deps.embedding;
  }
  const embedderChanged = refit || state.embedder !== embedder.id;
  const everything = embedderChanged || rechunk;
  const work = everything ? docs : changed;

  // 3. Embed and store, file by file.
  let embeddedChunks = 0;
  let added = 0;
  let updated = 0;
  let aborted = false;
  let failed = 0;
  if (work.length > 0 || everything) {
    const [probe] = await embedder.embed(['dimension probe']);
    await deps.index.prepare((probe as Float32Array).length, embedderChanged);
  }
  progress.start(work.length, 'files');
  for (const d of work) {
    if (deps.signal?.aborted) {
      aborted = true;
      break;
    }
    try {
      const vectors = await embedder.embed(d.chunks.map(embedText));
      const rows: Omit<StoredChunk, 'path'>[] = d.chunks.map((c, i) => ({
        id: `${d.path}#${c.ordinal}`,
        ordinal: c.ordinal,
        heading: c.heading,
        anchor: c.anchor,
        sectionStart: c.sectionStart,
        sectionEnd: c.sectionEnd,
        text: c.text,
        embedding: vectors[i] as Float32Array,
      }));
      await deps.index.replace(
        d.path,
        rows.map((r) => ({
          id: r.id,
          path: d.path,
          heading: r.heading,
          anchor: r.anchor,
          vector: r.embedding,
        })),
      );
      await deps.store.replaceDocument(d, rows);
      embeddedChunks += rows.length;
      if (stored.has(d.path)) {
        if (stored.get(d.path) !== d.hash) updated++;
      } else added++;
    } catch (err) {
      failed++;
      errors.push({ path: d.path, message: `not indexed: ${(err as Error).message}` });
    }
    progress.tick(d.path);
  }

  // 4. Documents that are gone.
  if (!aborted && removed.length > 0) {
    await deps.index.remove(removed);
    await deps.store.removeDocuments(removed);
  }

  // 5. An index that lags the database (Qdrant emptied or down during an earlier ingest) is
  // refilled from the stored vectors: nothing is embedded again.
  let refilled = false;
  const counts = await deps.store.counts();
  if (!aborted && deps.index.kind !== 'database' && (await deps.index.count()) !== counts.chunks) {
    refilled = true;
    const byPath = new Map<string, StoredChunk[]>();
    for (const c of await deps.store.chunks()) byPath.set(c.path, [...(byPath.get(c.path) ?? []), c]);
    for (const [path, cs] of byPath) {
      await deps.index.replace(
        path,
        cs.map((c) => ({ id: c.id, path, heading: c.heading, anchor: c.anchor, vector: c.embedding })),
      );
    }
  }

  const summary = {
    files: docs.length + keep.size,
    added,
    updated,
    removed: aborted ? 0 : removed.length,
    unchanged: docs.length - changed.length,
    chunks: counts.chunks,
    embeddedChunks,
    refit,
    refilled,
    errors,
    aborted,
  };
  const generation = await deps.store.finishIngest({
    // After a failed switch of embedder or chunker, the next ingest must try every file again.
    embedder: everything && failed > 0 ? (state.embedder ?? '') : embedder.id,
    chunking: everything && failed > 0 ? (state.chunking ?? '') : cutting,
    idf,
    fittedChunks,
    changedSinceFit,
    changed: embeddedChunks > 0 || summary.removed > 0,
    summary,
  });
  for (const e of errors) deps.log?.warn(e, 'rag ingest: a document was skipped');
  return { ...summary, generation, ms: Date.now() - t0 };
}

export const describeIngest = (s: IngestSummary): string =>
  `${s.files} files: ${s.added} added, ${s.updated} updated, ${s.removed} removed, ${s.unchanged} unchanged; ` +
  `${s.embeddedChunks} chunks embedded${s.refit ? ' (IDF refitted)' : ''}, ${s.chunks} in the index; ` +
  `${s.errors.length} errors; generation ${s.generation}; ${s.ms} ms`;
