import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { type AnswerEvent, normaliseQuestion, type RagStatus, type Section } from '../shared/assistant.ts';
import { answerMessages, citationsOf, extractiveAnswer, type Passage } from './answer.ts';
import { type Bm25Index, bm25Index, type Scored } from './bm25.ts';
import {
  type CachedAnswer,
  DEFAULT_CACHE,
  filterKey,
  identifiers,
  memoryCacheBackend,
  redisCacheBackend,
  type SemanticCache,
  semanticCache,
} from './cache.ts';
import { lexicalEmbedder } from './embed.ts';
import { reciprocalRankFusion } from './fuse.ts';
import { databaseIndex, qdrantIndex, type VectorIndex } from './index.ts';
import { type DocSource, type Embedding, type IngestSummary, ingest } from './ingest.ts';
import { type LlmPool, LlmUnavailableError, ollamaEmbedder, ollamaPool } from './llm.ts';
import type { Progress } from './progress.ts';
import { lexicalReranker, llmReranker, type Reranker } from './rerank.ts';
import type { RagStorage, StoredChunk } from './storage.ts';

// The assistant's flow: semantic cache → hybrid retrieval (BM25 + vectors, fused by reciprocal
// rank) → re-rank → the LLM pool with failover, or the extractive answer when there is no LLM
// or none answers. Streams AnswerEvents; it has no tools and touches no orders or data.

export const RETRIEVAL_MODES = ['bm25', 'vector', 'hybrid', 'hybrid+rerank'] as const;
export type RetrievalMode = (typeof RETRIEVAL_MODES)[number];

/** Candidates each retriever hands to fusion and re-ranking; passages an answer quotes. */
export const CANDIDATES = 20;
export const PASSAGES = 5;
export const STATUS_TTL_MS = 30_000;

export interface RagServiceDeps {
  readonly store: RagStorage;
  /** `database`: the embedded index over the stored vectors. */
  readonly index: VectorIndex | 'database';
  readonly embedding: Embedding;
  readonly llm?: LlmPool | undefined;
  readonly cache: SemanticCache;
  readonly sources: readonly DocSource[];
  readonly log: Logger;
  readonly now?: () => number;
}

export interface AskOptions {
  /** Only these documents. */
  readonly paths?: readonly string[] | undefined;
}

interface Snapshot {
  readonly generation: number;
  readonly chunks: readonly StoredChunk[];
  readonly byId: ReadonlyMap<string, StoredChunk>;
  readonly bm25: Bm25Index;
  readonly embed: ((text: string) => Promise<Float32Array>) | undefined;
  readonly reranker: Reranker;
}

export interface RagService {
  ask(question: string, opts?: AskOptions): AsyncGenerator<AnswerEvent>;
  /** The passages for a question, best first (`k`, default PASSAGES; one per section). */
  retrieve(
    question: string,
    mode: RetrievalMode,
    opts?: AskOptions & { vector?: Float32Array; k?: number },
  ): Promise<Passage[]>;
  /** One ingest at a time: a second call while one runs gets the running one. */
  ingest(progress?: Progress): Promise<IngestSummary>;
  readonly indexing: boolean;
  status(): Promise<RagStatus>;
  source(path: string, anchor: string): Promise<Section | undefined>;
  close(): Promise<void>;
}

const toPassage = (c: StoredChunk): Passage => ({
  id: c.id,
  path: c.path,
  heading: c.heading,
  anchor: c.anchor,
  text: c.text,
});

// Paragraph-sized deltas, so the app renders an extractive answer as it comes, like an LLM's.
const pieces = (text: string) => text.split(/(?<=\n\n)/);

export function ragService(deps: RagServiceDeps): RagService {
  const now = deps.now ?? Date.now;
  const { store, cache, llm, log } = deps;
  const index = deps.index === 'database' ? databaseIndex(async () => (await snapshot()).chunks) : deps.index;
  let loaded: Promise<Snapshot> | undefined;
  let loadedGeneration = -1;
  let running: Promise<IngestSummary> | undefined;
  let statusCache: { at: number; value: Promise<RagStatus> } | undefined;
  const stop = new AbortController();

  async function load(generation: number): Promise<Snapshot> {
    const [chunks, state] = await Promise.all([store.chunks(), store.state()]);
    const bm25 = bm25Index(chunks.map((c) => ({ id: c.id, heading: c.heading, text: c.text })));
    let embed: Snapshot['embed'];
    if (deps.embedding !== 'lexical') {
      const e = deps.embedding;
      embed = async (text) => (await e.embed([text]))[0] as Float32Array;
    } else if (state.idf) {
      const e = lexicalEmbedder(state.idf);
      embed = async (text) => (await e.embed([text]))[0] as Float32Array;
    }
    const lexical = lexicalReranker(bm25.idf);
    const reranker = llm
      ? llmReranker(
          (messages) => llm.chat(messages, true),
          lexical,
          (reason) => log.warn({ reason }, 'rag: LLM re-rank failed, lexical order used'),
        )
      : lexical;
    return {
      generation,
      chunks,
      byId: new Map(chunks.map((c) => [c.id, c])),
      bm25,
      embed,
      reranker,
    };
  }

  // The corpus as of the database's current generation (another process may have ingested).
  async function snapshot(): Promise<Snapshot> {
    const generation = await store.generation();
    if (!loaded || generation !== loadedGeneration) {
      loadedGeneration = generation;
      loaded = load(generation);
      loaded.catch(() => {
        loaded = undefined;
      });
    }
    return loaded;
  }

  const queryVector = async (snap: Snapshot, question: string) => {
    if (!snap.embed) return undefined;
    try {
      return await snap.embed(question);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'rag: the question could not be embedded, BM25 only');
      return undefined;
    }
  };

  async function retrieveFrom(
    snap: Snapshot,
    question: string,
    mode: RetrievalMode,
    opts: AskOptions & { vector?: Float32Array | undefined; k?: number },
  ): Promise<Passage[]> {
    const only = opts.paths && new Set(opts.paths);
    const allow = only && ((id: string) => only.has(snap.byId.get(id)?.path ?? ''));
    const lexical = mode === 'vector' ? [] : snap.bm25.search(question, CANDIDATES, allow);
    let semantic: Scored[] = [];
    if (mode !== 'bm25') {
      const vector = opts.vector ?? (await queryVector(snap, question));
      if (vector) {
        semantic = await index.search(vector, CANDIDATES, { paths: opts.paths }).catch((err: Error) => {
          log.warn({ err: err.message, index: index.kind }, 'rag: vector search failed, BM25 only');
          return [];
        });
      }
    }
    const fused =
      mode === 'bm25' ? lexical : mode === 'vector' ? semantic : reciprocalRankFusion([lexical, semantic]);
    let passages = fused.flatMap((s) => {
      const c = snap.byId.get(s.id);
      return c ? [toPassage(c)] : [];
    });
    passages = passages.slice(0, CANDIDATES);
    if (mode === 'hybrid+rerank') passages = await snap.reranker.rerank(question, passages);
    // Overlapping chunks of one section would cite it twice: keep its best.
    const seen = new Set<string>();
    return passages
      .filter((p) => {
        const section = `${p.path}#${p.anchor}`;
        if (seen.has(section)) return false;
        seen.add(section);
        return true;
      })
      .slice(0, opts.k ?? PASSAGES);
  }

  async function* ask(question: string, opts: AskOptions = {}): AsyncGenerator<AnswerEvent> {
    const snap = await snapshot();
    const vector = await queryVector(snap, question);
    const query = {
      key: normaliseQuestion(question),
      filter: filterKey(opts.paths),
      vector,
      ids: identifiers(question),
    };
    const hit = await cache.lookup(snap.generation, query).catch((err: Error) => {
      log.warn({ err: err.message, cache: cache.kind }, 'rag: cache lookup failed');
      return undefined;
    });
    if (hit) {
      const a = hit.entry.answer;
      yield { type: 'meta', mode: a.mode, citations: a.citations, cached: true, cachedAt: hit.entry.at };
      for (const text of pieces(a.text)) yield { type: 'delta', text };
      yield { type: 'done' };
      return;
    }
    const passages = await retrieveFrom(snap, question, 'hybrid+rerank', { ...opts, vector });
    const remember = (answer: CachedAnswer) => {
      cache
        .store(snap.generation, { ...query, answer, at: now() })
        .catch((err: Error) => log.warn({ err: err.message, cache: cache.kind }, 'rag: cache store failed'));
    };

    if (llm && passages.length > 0) {
      let stream: AsyncIterable<string> | undefined;
      try {
        stream = await llm.chatStream(answerMessages(question, passages));
      } catch (err) {
        if (!(err instanceof LlmUnavailableError)) throw err;
        log.warn({ causes: err.causes }, 'rag: no LLM host answered, extractive answer');
      }
      if (stream) {
        const citations = citationsOf(passages);
        yield { type: 'meta', mode: 'llm', citations, cached: false };
        let text = '';
        try {
          for await (const t of stream) {
            text += t;
            yield { type: 'delta', text: t };
          }
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'rag: the LLM stopped mid-answer');
          yield { type: 'done', error: 'The language model stopped mid-answer: ask again' };
          return;
        }
        yield { type: 'done' };
        remember({ mode: 'llm', citations, text });
        return;
      }
    }

    const { text, citations } = extractiveAnswer(question, passages, snap.bm25.idf);
    yield { type: 'meta', mode: 'extractive', citations, cached: false };
    for (const piece of pieces(text)) yield { type: 'delta', text: piece };
    yield { type: 'done' };
    // With an LLM configured, a fallback answer is not kept: the next asker may get the LLM's.
    if (!llm) remember({ mode: 'extractive', citations, text });
  }

  async function checkStatus(): Promise<RagStatus> {
    // As of the request: an ingest that ends while the counts are read still says "indexing".
    const indexing = running !== undefined;
    const [state, counts, database, vectorUp, cacheUp, hosts] = await Promise.all([
      store.state(),
      store.counts(),
      store.generation().then(
        () => true,
        () => false,
      ),
      index.healthy(),
      cache.healthy(),
      llm ? llm.probe() : Promise.resolve([]),
    ]);
    return {
      state: indexing ? 'indexing' : counts.chunks === 0 ? 'empty' : 'ready',
      documents: counts.documents,
      chunks: counts.chunks,
      generation: state.generation,
      embedder: state.embedder,
      lastIngestAt: state.lastIngestAt,
      lastIngest: state.lastIngest,
      backends: {
        database,
        vectorIndex: { kind: index.kind, up: vectorUp },
        cache: { kind: cache.kind, up: cacheUp },
        llm: llm ? { configured: true, model: llm.chatModel, hosts } : { configured: false },
      },
      checkedAt: now(),
    };
  }

  return {
    ask,
    async retrieve(question, mode, opts = {}) {
      return retrieveFrom(await snapshot(), question, mode, opts);
    },
    ingest(progress) {
      if (running) return running;
      statusCache = undefined;
      running = ingest({
        store,
        index,
        embedding: deps.embedding,
        sources: deps.sources,
        progress,
        log,
        signal: stop.signal,
      })
        .then(
          (s) => {
            log.info({ ...s, errors: s.errors.length }, 'rag: ingest done');
            return s;
          },
          (err: Error) => {
            log.error({ err: err.message }, 'rag: ingest failed; the index is as it was');
            throw err;
          },
        )
        .finally(() => {
          running = undefined;
          statusCache = undefined;
        });
      return running;
    },
    get indexing() {
      return running !== undefined;
    },
    status() {
      if (!statusCache || now() - statusCache.at >= STATUS_TTL_MS) {
        const value = checkStatus();
        statusCache = { at: now(), value };
        value.catch(() => {
          statusCache = undefined;
        });
      }
      return statusCache.value;
    },
    source: (path, anchor) => store.section(path, anchor),
    async close() {
      stop.abort();
      await running?.catch(() => {});
      await cache.close();
    },
  };
}

/** Wires the assistant from the settings: each backend embedded unless its variable is set. */
export async function startRag(
  store: RagStorage,
  settings: Config['rag'],
  redisUrl: string | undefined,
  log: Logger,
) {
  const llm =
    settings.ollamaHosts.length > 0
      ? ollamaPool({
          hosts: settings.ollamaHosts,
          chatModel: settings.chatModel,
          embedModel: settings.embedModel,
          timeoutMs: settings.llmTimeoutMs,
        })
      : undefined;
  const backend = redisUrl ? await redisCacheBackend(redisUrl, log) : memoryCacheBackend();
  return ragService({
    store,
    index: settings.qdrantUrl
      ? qdrantIndex({
          url: settings.qdrantUrl,
          apiKey: settings.qdrantApiKey,
          timeoutMs: settings.llmTimeoutMs,
        })
      : 'database',
    embedding: llm ? ollamaEmbedder(llm, settings.embedModel) : 'lexical',
    llm,
    cache: semanticCache(backend, { ...DEFAULT_CACHE, ttlMs: settings.cacheTtlS * 1000 }),
    sources: settings.sources,
    log,
  });
}
