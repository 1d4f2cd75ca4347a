import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import {
  type CacheBackend,
  type CacheEntry,
  type CacheQuery,
  filterKey,
  identifiers,
  memoryCacheBackend,
  redisCacheBackend,
  semanticCache,
} from './cache.ts';
import { normalise } from './embed.ts';

// Both backends run the same cases: the in-process one always, Redis when REDIS_URL is set
// (CI sets it), each test on a prefix of its own.

const log = createLogger('silent');
const vec = (...xs: number[]) => normalise(Float32Array.from(xs));
const cite = (paths: readonly string[]) =>
  paths.map((path, i) => ({ n: i + 1, path, heading: path, anchor: 'a' }));
const entry = (
  key: string,
  vector: Float32Array | undefined,
  ids: string[] = [],
  at = 1,
  paths?: readonly string[],
  cited: readonly string[] = paths ?? ['docs/a.md'],
): CacheEntry => ({
  key,
  filter: filterKey(paths),
  vector,
  ids,
  at,
  answer: { mode: 'extractive', citations: cite(cited), text: `about ${key}` },
});
const query = (
  key: string,
  vector?: Float32Array,
  ids: string[] = [],
  paths?: readonly string[],
): CacheQuery => ({
  key,
  filter: filterKey(paths),
  vector,
  ids,
});

let clock = 1_000;
const opened: CacheBackend[] = [];
let n = 0;
const backends: [string, () => Promise<CacheBackend>][] = [
  ['memory', async () => memoryCacheBackend(() => clock)],
];
if (process.env.REDIS_URL) {
  const url = process.env.REDIS_URL;
  const run = `${process.pid}-${Date.now()}`;
  backends.push(['redis', () => redisCacheBackend(url, log, `tape:test:rag:${run}:${++n}:`)]);
}
afterAll(async () => {
  await Promise.all(opened.map((b) => b.close()));
});

describe.each(backends)('semantic cache on %s', (kind, make) => {
  const open = async (ttlMs = 60_000) => {
    const b = await make();
    opened.push(b);
    return semanticCache(b, { threshold: 0.9, ttlMs, scan: 100 });
  };

  it('hits on the same normalised question, exactly', async () => {
    const c = await open();
    await c.store(1, entry('how big is the ring', vec(1, 0, 0)));
    const hit = await c.lookup(1, query('how big is the ring'));
    expect(hit?.kind).toBe('exact');
    expect(hit?.entry.answer.text).toBe('about how big is the ring');
    expect(hit?.entry.answer.citations[0]?.anchor).toBe('a');
    expect(c.kind).toBe(kind);
  });

  it('hits on a similar question above the threshold, misses below it, picks the closest', async () => {
    const c = await open();
    await c.store(1, entry('q1', vec(1, 0, 0)));
    await c.store(1, entry('q2', vec(1, 0.3, 0)));
    const near = await c.lookup(1, query('other words', vec(1, 0.05, 0)));
    expect(near).toMatchObject({ kind: 'similar', entry: { key: 'q1' } });
    expect(near?.similarity).toBeGreaterThan(0.99);
    expect(await c.lookup(1, query('far', vec(0, 1, 0)))).toBeUndefined();
    expect(await c.lookup(1, query('no vector'))).toBeUndefined();
    const stored = (await c.lookup(1, query('q1')))?.entry.vector as Float32Array;
    expect(Array.from(stored)).toEqual(Array.from(vec(1, 0, 0)));
  });

  it('never serves a similar question naming other identifiers (codes, tickers, keys)', async () => {
    const c = await open();
    await c.store(1, entry('what does close code 4408 mean', vec(1, 0, 0), ['4408']));
    expect(
      await c.lookup(1, query('what does close code 4403 mean', vec(1, 0, 0), ['4403'])),
    ).toBeUndefined();
    expect(await c.lookup(1, query('what does code 4408 mean', vec(1, 0, 0), ['4408']))).toMatchObject({
      kind: 'similar',
    });
    expect((await c.lookup(1, query('what does close code 4408 mean')))?.entry.ids).toEqual(['4408']);
  });

  it('is invalidated by a new index generation', async () => {
    const c = await open();
    await c.store(3, entry('q', vec(1, 0)));
    expect(await c.lookup(3, query('q', vec(1, 0)))).toBeDefined();
    expect(await c.lookup(4, query('q', vec(1, 0)))).toBeUndefined();
    expect(await c.lookup(4, query('other', vec(1, 0)))).toBeUndefined();
  });

  it('forgets entries after their TTL', async () => {
    const c = await open(kind === 'redis' ? 150 : 1_000);
    await c.store(1, entry('q', vec(1, 0)));
    expect(await c.lookup(1, query('q'))).toBeDefined();
    if (kind === 'redis') await new Promise((r) => setTimeout(r, 300));
    else clock += 1_001;
    expect(await c.lookup(1, query('q'))).toBeUndefined();
    expect(await c.lookup(1, query('similar', vec(1, 0)))).toBeUndefined();
  });

  it("looks up, exactly and by similarity, only within the asker's document filter", async () => {
    const c = await open();
    const b = ['docs/b.md'];
    await c.store(1, entry('what is the kill switch', vec(1, 0, 0)));
    await c.store(1, entry('what is the kill switch', vec(1, 0, 0), [], 2, b));
    for (const v of [undefined, vec(1, 0.05, 0)]) {
      const plain = await c.lookup(1, query('what is the kill switch', v));
      expect(plain?.entry.answer.citations.map((x) => x.path)).toEqual(['docs/a.md']);
      // The same filter however it is spelt: another order, a path twice.
      const filtered = await c.lookup(1, query('what is the kill switch', v, [], ['docs/b.md', 'docs/b.md']));
      expect(filtered?.entry.answer.citations.map((x) => x.path)).toEqual(['docs/b.md']);
      for (const other of [['docs/c.md'], ['docs/a.md'], ['docs/a.md', 'docs/b.md']])
        expect(await c.lookup(1, query('what is the kill switch', v, [], other))).toBeUndefined();
    }
    expect((await c.lookup(1, query('the kill switch?', vec(1, 0, 0), [], b)))?.kind).toBe('similar');
  });

  it('keeps no answer that cites nothing (nothing matched)', async () => {
    const c = await open();
    await c.store(1, entry('what is the kill switch', vec(1, 0, 0), [], 1, ['docs/nope.md'], []));
    await c.store(1, entry('what is the kill switch', vec(1, 0, 0), [], 1, undefined, []));
    for (const paths of [undefined, ['docs/nope.md']]) {
      expect(await c.lookup(1, query('what is the kill switch', undefined, [], paths))).toBeUndefined();
      expect(await c.lookup(1, query('kill switch', vec(1, 0, 0), [], paths))).toBeUndefined();
    }
  });

  it("for any stores and lookups: a hit cites only documents inside the asker's filter", async () => {
    const c = await open();
    const PATHS = ['docs/a.md', 'docs/b.md', 'docs/c.md'];
    const paths = fc.option(fc.array(fc.constantFrom(...PATHS), { minLength: 1, maxLength: 3 }), {
      nil: undefined,
    });
    // Questions whose vectors are all within the threshold of each other, so any could serve any.
    const question = fc.record({ key: fc.constantFrom('q1', 'q2', 'q3'), v: fc.integer({ min: 0, max: 3 }) });
    const op = fc.oneof(
      fc.record({ kind: fc.constant('store' as const), question, paths, cited: fc.nat() }),
      fc.record({ kind: fc.constant('lookup' as const), question, paths }),
    );
    let generation = 100;
    let hits = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 12 }), async (ops) => {
        const g = ++generation; // each run on an empty cache
        for (const o of ops) {
          const v = vec(1, o.question.v * 0.05, 0);
          if (o.kind === 'store') {
            // An answer cites some of the documents it was restricted to (all of them when none).
            const allowed = [...new Set(o.paths ?? PATHS)];
            const cited = allowed.filter((_, i) => (o.cited >> i) & 1);
            await c.store(g, entry(o.question.key, v, [], 1, o.paths, cited));
          } else {
            const hit = await c.lookup(g, query(o.question.key, v, [], o.paths));
            if (!hit) continue;
            hits++;
            const cited = hit.entry.answer.citations.map((x) => x.path);
            expect(cited.length).toBeGreaterThan(0);
            if (o.paths) expect(cited.filter((p) => !o.paths?.includes(p))).toEqual([]);
            expect(hit.entry.filter).toBe(filterKey(o.paths));
          }
        }
      }),
      { numRuns: 60 },
    );
    expect(hits).toBeGreaterThan(0);
  });

  it('reports itself healthy', async () => {
    expect(await (await open()).healthy()).toBe(true);
  });
});

describe('redis cache backend', () => {
  it('refuses to start, saying why, when Redis cannot be reached', async () => {
    await expect(redisCacheBackend('redis://127.0.0.1:1', log)).rejects.toThrow(
      /Cannot reach Redis at REDIS_URL/,
    );
  });
});

describe('filterKey', () => {
  it('is one form per set of documents, and no filter is none of them', () => {
    expect(filterKey(['docs/b.md', 'docs/a.md', 'docs/b.md'])).toBe(filterKey(['docs/a.md', 'docs/b.md']));
    expect(filterKey(['docs/a,b.md'])).not.toBe(filterKey(['docs/a', 'b.md']));
    const forms = [undefined, [], ['docs/a.md'], ['docs/a.md', 'docs/b.md']].map(filterKey);
    expect(new Set(forms).size).toBe(forms.length);
  });
});

describe('identifiers', () => {
  it('picks codes, tickers, keys and setting names, not ordinary words', () => {
    expect(identifiers('Why was my socket closed with 4408 on PETR4?')).toEqual(['4408', 'PETR4']);
    expect(identifiers('What does F2 do? And TAPE_REPLAY_RING? I wonder')).toEqual([
      'F2',
      'TAPE_REPLAY_RING',
    ]);
    expect(identifiers('how does the kill switch work')).toEqual([]);
  });
});
