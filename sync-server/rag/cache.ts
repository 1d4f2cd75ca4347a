import { createHash } from 'node:crypto';
import { createClient } from 'redis';
import type { Logger } from '../log.ts';
import type { AnswerMode, CacheKind, Citation } from '../shared/assistant.ts';
import { bytesVector, dot, vectorBytes } from './embed.ts';

// The semantic cache: a question answered before — word for word (after normalisation), or
// close enough by embedding similarity — gets the stored answer. A similar question must name
// the same identifiers (codes, tickers, keys: "4408", "WINZ25", "F2"), because look-alike
// questions that differ only there ask different things. Every lookup, exact or similar, is
// within the asker's document filter: an answer restricted to some documents is never served
// to an asker of others or of all, nor the other way round. An answer that cites nothing (nothing
// matched) is not kept. Entries live per index generation, so any change to the corpus
// invalidates them all at once; each has a TTL. Backends: in process (default) or Redis
// (REDIS_URL), shared by every server process.

export interface CachedAnswer {
  readonly mode: AnswerMode;
  readonly citations: readonly Citation[];
  readonly text: string;
}

/** What a question is looked up by. */
export interface CacheQuery {
  /** The normalised question. */
  readonly key: string;
  /** The documents it is restricted to, in canonical form (`filterKey`). */
  readonly filter: string;
  readonly vector: Float32Array | undefined;
  /** The question's identifiers (see `identifiers`). */
  readonly ids: readonly string[];
}

export interface CacheEntry extends CacheQuery {
  readonly answer: CachedAnswer;
  readonly at: number;
}

export interface CacheBackend {
  readonly kind: CacheKind;
  get(generation: number, filter: string, key: string): Promise<CacheEntry | undefined>;
  /** Live entries of the generation under this filter, newest first, at most `limit`. */
  recent(generation: number, filter: string, limit: number): Promise<CacheEntry[]>;
  put(generation: number, entry: CacheEntry, ttlMs: number): Promise<void>;
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}

export interface CacheOptions {
  /** Cosine at or above which a different question counts as the same. */
  readonly threshold: number;
  readonly ttlMs: number;
  /** Entries compared by similarity (the newest). */
  readonly scan: number;
}

export const DEFAULT_CACHE: CacheOptions = Object.freeze({
  threshold: 0.8,
  ttlMs: 24 * 3_600_000,
  scan: 500,
});

/** A document filter's canonical form: '' for none (every document), else its paths sorted, once each. */
export function filterKey(paths: readonly string[] | undefined): string {
  return paths === undefined ? '' : JSON.stringify([...new Set(paths)].sort());
}

/** Words with a digit or in capitals (PETR4, 4408, F2, TAPE_REPLAY_RING), upper-cased, sorted. */
export function identifiers(question: string): string[] {
  const found = question.match(/[\p{L}\p{N}_]+/gu) ?? [];
  const ids = found.filter((w) => /\d/.test(w) || (w.length >= 2 && /^[\p{Lu}][\p{Lu}\p{N}_]+$/u.test(w)));
  return [...new Set(ids.map((w) => w.toUpperCase()))].sort();
}

const sameIds = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

export type CacheHit = {
  readonly entry: CacheEntry;
  readonly kind: 'exact' | 'similar';
  readonly similarity: number;
};

export interface SemanticCache {
  readonly kind: CacheBackend['kind'];
  lookup(generation: number, query: CacheQuery): Promise<CacheHit | undefined>;
  /** Keeps an answer, unless it cites nothing. */
  store(generation: number, entry: CacheEntry): Promise<void>;
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}

export function semanticCache(backend: CacheBackend, opts: CacheOptions = DEFAULT_CACHE): SemanticCache {
  return {
    kind: backend.kind,
    async lookup(generation, { key, filter, vector, ids }) {
      const exact = await backend.get(generation, filter, key);
      if (exact) return { entry: exact, kind: 'exact', similarity: 1 };
      if (!vector) return undefined;
      let best: CacheHit | undefined;
      for (const e of await backend.recent(generation, filter, opts.scan)) {
        if (!e.vector || e.vector.length !== vector.length || !sameIds(ids, e.ids)) continue;
        const similarity = dot(vector, e.vector);
        if (similarity >= opts.threshold && similarity > (best?.similarity ?? 0))
          best = { entry: e, kind: 'similar', similarity };
      }
      return best;
    },
    store: async (generation, entry) => {
      if (entry.answer.citations.length > 0) await backend.put(generation, entry, opts.ttlMs);
    },
    healthy: () => backend.healthy(),
    close: () => backend.close(),
  };
}

// An entry's identity: its filter and its question.
const entryId = (filter: string, key: string) => JSON.stringify([filter, key]);

/** In process: one generation's entries (older generations are dropped when a newer one is seen). */
export function memoryCacheBackend(now: () => number = Date.now, maxEntries = 5_000): CacheBackend {
  let generation = -1;
  let entries = new Map<string, { entry: CacheEntry; expires: number }>();
  // The live entries of generation g (none for an older one), oldest first.
  const live = (g: number) => {
    if (g > generation) {
      generation = g;
      entries = new Map();
    }
    if (g < generation) return undefined;
    const t = now();
    for (const [k, v] of entries) if (v.expires <= t) entries.delete(k);
    return entries;
  };
  return {
    kind: 'memory',
    get: async (g, filter, key) => live(g)?.get(entryId(filter, key))?.entry,
    recent: async (g, filter, limit) =>
      [...(live(g)?.values() ?? [])]
        .reverse()
        .map((v) => v.entry)
        .filter((e) => e.filter === filter)
        .slice(0, limit),
    async put(g, entry, ttlMs) {
      const m = live(g);
      if (!m) return; // an answer from an older corpus
      const id = entryId(entry.filter, entry.key);
      m.delete(id); // re-inserted as the newest
      m.set(id, { entry, expires: now() + ttlMs });
      if (m.size > maxEntries) m.delete(m.keys().next().value as string);
    },
    healthy: async () => true,
    close: async () => {},
  };
}

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

type Wire = {
  key: string;
  filter: string;
  vector: string | null;
  ids: string[];
  answer: CachedAnswer;
  at: number;
};
const toWire = (e: CacheEntry): string =>
  JSON.stringify({
    key: e.key,
    filter: e.filter,
    vector: e.vector ? vectorBytes(e.vector).toString('base64') : null,
    ids: [...e.ids],
    answer: e.answer,
    at: e.at,
  } satisfies Wire);
const fromWire = (s: string): CacheEntry | undefined => {
  try {
    const w = JSON.parse(s) as Wire;
    return {
      key: w.key,
      filter: w.filter,
      vector: w.vector ? bytesVector(Buffer.from(w.vector, 'base64')) : undefined,
      ids: Array.isArray(w.ids) ? w.ids : [],
      answer: w.answer,
      at: w.at,
    };
  } catch {
    return undefined;
  }
};

/**
 * Redis: each entry a string key with a TTL (`<prefix><gen>:e:<sha1 of filter and question>`),
 * and per generation and filter a sorted set by time (`<prefix><gen>:idx:<sha1 of filter>`) for
 * the similarity scan, trimmed to `maxEntries`.
 */
export async function redisCacheBackend(
  url: string,
  log: Logger,
  prefix = 'tape:rag:cache:',
  maxEntries = 5_000,
): Promise<CacheBackend> {
  // Unreachable at start: a configuration error, said at once. Lost later: retried for good
  // (meanwhile every lookup misses and answers are made afresh).
  let up = false;
  const client = createClient({
    url,
    socket: {
      connectTimeout: 5000,
      reconnectStrategy: (retries, cause) =>
        up || retries < 3
          ? Math.min(100 * 2 ** retries, 2000)
          : new Error(`Cannot reach Redis at REDIS_URL: ${cause.message}`),
    },
  });
  client.on('error', (err: Error) => log.warn({ err: err.message }, 'redis cache connection error'));
  await client.connect();
  up = true;
  const entryKey = (g: number, hash: string) => `${prefix}${g}:e:${hash}`;
  const indexKey = (g: number, filter: string) => `${prefix}${g}:idx:${sha1(filter)}`;
  return {
    kind: 'redis',
    async get(g, filter, key) {
      const s = await client.get(entryKey(g, sha1(entryId(filter, key))));
      return s ? fromWire(s) : undefined;
    },
    async recent(g, filter, limit) {
      const index = indexKey(g, filter);
      const hashes = await client.zRange(index, 0, limit - 1, { REV: true });
      if (hashes.length === 0) return [];
      const values = await client.mGet(hashes.map((h) => entryKey(g, h)));
      const gone = hashes.filter((_, i) => values[i] === null);
      if (gone.length > 0) await client.zRem(index, gone);
      return values.flatMap((v) => (v ? (fromWire(v) ?? []) : []));
    },
    async put(g, entry, ttlMs) {
      const hash = sha1(entryId(entry.filter, entry.key));
      const index = indexKey(g, entry.filter);
      await client
        .multi()
        .set(entryKey(g, hash), toWire(entry), { PX: ttlMs })
        .zAdd(index, { score: entry.at, value: hash })
        .zRemRangeByRank(index, 0, -(maxEntries + 1))
        .pExpire(index, ttlMs)
        .exec();
    },
    healthy: () =>
      client.ping().then(
        () => true,
        () => false,
      ),
    async close() {
      await client.quit().catch(() => client.destroy());
    },
  };
}
