// The assistant: (1) retrieval quality on bench/rag-eval.json — 50 questions about docs/, each
// with the sections that answer it — for BM25 only, vectors only, hybrid (reciprocal rank
// fusion) and hybrid + lexical re-rank: recall@5 and MRR@10; (2) the semantic cache on the
// paraphrase pairs (hit rate) and on look-alike pairs that ask different things (false hits),
// with the p50 time of a question answered from the cache vs. one answered from the index.
// Embedded mode (PGlite, lexical embeddings, extractive answers); with REDIS_URL the cache
// part also runs on Redis. Run: npx tsx bench/rag.bench.ts
import { readFileSync } from 'node:fs';
import { createLogger } from '../sync-server/log.ts';
import {
  type CacheBackend,
  DEFAULT_CACHE,
  identifiers,
  memoryCacheBackend,
  redisCacheBackend,
  semanticCache,
} from '../sync-server/rag/cache.ts';
import { dot, lexicalEmbedder } from '../sync-server/rag/embed.ts';
import { RETRIEVAL_MODES, ragService } from '../sync-server/rag/service.ts';
import type { AnswerEvent } from '../sync-server/shared/assistant.ts';
import { openDatabase } from '../sync-server/store/db.ts';
import { migrate } from '../sync-server/store/migrate.ts';
import { RagStore } from '../sync-server/store/rag.ts';

interface Eval {
  questions: { q: string; expect: string[] }[];
  paraphrases: [string, string][];
  distinct: [string, string][];
}
const data = JSON.parse(readFileSync(new URL('./rag-eval.json', import.meta.url), 'utf8')) as Eval;
const log = createLogger('silent');
const db = await openDatabase({ pgliteDir: 'memory://', log });
await migrate(db.sql);
const store = new RagStore(db.sql);
const sources = [{ label: 'docs', dir: new URL('../docs', import.meta.url).pathname }];
const service = (backend: CacheBackend) =>
  ragService({
    store,
    index: 'database',
    embedding: 'lexical',
    cache: semanticCache(backend),
    sources,
    log,
  });

const ingested = await service(memoryCacheBackend()).ingest();
console.log(`corpus: ${ingested.files} documents, ${ingested.chunks} chunks (${ingested.ms} ms to ingest)\n`);

// ---- (1) retrieval quality ----
console.log('| retrieval | recall@5 | MRR@10 |');
console.log('| --- | ---: | ---: |');
const rag = service(memoryCacheBackend());
const misses: string[] = [];
for (const mode of RETRIEVAL_MODES) {
  let found = 0;
  let rr = 0;
  for (const { q, expect } of data.questions) {
    const passages = await rag.retrieve(q, mode, { k: 10 });
    const rank = passages.findIndex((p) => expect.includes(`${p.path}#${p.anchor}`));
    if (rank >= 0 && rank < 5) found++;
    else if (mode === 'hybrid+rerank') misses.push(`  ${q} → ${passages[0]?.path}#${passages[0]?.anchor}`);
    if (rank >= 0) rr += 1 / (rank + 1);
  }
  const n = data.questions.length;
  console.log(`| ${mode} | ${(found / n).toFixed(3)} | ${(rr / n).toFixed(3)} |`);
}
if (misses.length > 0) console.log(`\nhybrid+rerank misses (top 5):\n${misses.join('\n')}`);

// ---- (2) semantic cache ----
const state = await store.state();
const embedder = lexicalEmbedder(state.idf as Float32Array);
// The similarity the cache acts on: the cosine, for questions naming the same identifiers.
const cos = async (a: string, b: string) => {
  if (identifiers(a).join() !== identifiers(b).join()) return Number.NEGATIVE_INFINITY;
  const [x, y] = await embedder.embed([a, b]);
  return dot(x as Float32Array, y as Float32Array);
};
const para = await Promise.all(data.paraphrases.map(([a, b]) => cos(a, b)));
const dist = await Promise.all(data.distinct.map(([a, b]) => cos(a, b)));
console.log('\n| threshold | paraphrase hit rate | look-alike false hits |');
console.log('| ---: | ---: | ---: |');
for (const th of [0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9]) {
  const hit = para.filter((s) => s >= th).length;
  const bad = dist.filter((s) => s >= th).length;
  const mark = th === DEFAULT_CACHE.threshold ? ' (default)' : '';
  console.log(
    `| ${th.toFixed(2)}${mark} | ${hit}/${para.length} (${((hit / para.length) * 100).toFixed(0)}%) | ${bad}/${dist.length} |`,
  );
}

const time = async (run: AsyncIterable<AnswerEvent>) => {
  const t0 = performance.now();
  let cached = false;
  for await (const e of run) if (e.type === 'meta') cached = e.cached;
  return { ms: performance.now() - t0, cached };
};
const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

const backends: [string, () => Promise<CacheBackend>][] = [['in-process', async () => memoryCacheBackend()]];
if (process.env.REDIS_URL) {
  const url = process.env.REDIS_URL;
  backends.push(['Redis', () => redisCacheBackend(url, log, `tape:bench:rag:${Date.now()}:`)]);
}
console.log('\n| cache | paraphrase hits | false hits | p50 miss (index + answer) | p50 hit |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const [name, make] of backends) {
  const backend = await make();
  const missMs: number[] = [];
  const hitMs: number[] = [];
  let hits = 0;
  let falseHits = 0;
  // Each pair on an empty cache: the pair's number is folded into the generation the cache
  // sees, so pairs cannot serve each other.
  let pair = 0;
  const scope = (g: number) => g * 10_000 + pair;
  const rag = service({
    kind: backend.kind,
    get: (g, filter, key) => backend.get(scope(g), filter, key),
    recent: (g, filter, limit) => backend.recent(scope(g), filter, limit),
    put: (g, entry, ttl) => backend.put(scope(g), entry, ttl),
    healthy: () => backend.healthy(),
    close: () => backend.close(),
  });
  await rag.retrieve('warm up', 'hybrid'); // loads the corpus snapshot before timing
  const ask = (q: string) => rag.ask(q);
  for (const [pairs, isParaphrase] of [
    [data.paraphrases, true],
    [data.distinct, false],
  ] as const) {
    for (const [a, b] of pairs) {
      pair++;
      const first = await time(ask(a));
      missMs.push(first.ms);
      const second = await time(ask(b));
      if (second.cached) {
        hitMs.push(second.ms);
        if (isParaphrase) hits++;
        else falseHits++;
      } else missMs.push(second.ms);
      const again = await time(ask(a)); // the same question again: an exact hit
      if (again.cached) hitMs.push(again.ms);
    }
  }
  console.log(
    `| ${name} | ${hits}/${data.paraphrases.length} (${((hits / data.paraphrases.length) * 100).toFixed(0)}%) | ${falseHits}/${data.distinct.length} | ${p50(missMs).toFixed(2)} ms | ${p50(hitMs).toFixed(2)} ms |`,
  );
  await backend.close();
}
await db.close();
