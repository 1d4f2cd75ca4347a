import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import {
  type CacheBackend,
  type CacheEntry,
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
const entry = (key: string, vector: Float32Array | undefined, ids: string[] = [], at = 1): CacheEntry => ({
  key,
  vector,
  ids,
  at,
  answer: {
    mode: 'extractive',
    citations: [{ n: 1, path: 'docs/a.md', heading: 'A', anchor: 'a' }],
    text: `about ${key}`,
  },
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
    const hit = await c.lookup(1, 'how big is the ring', undefined, []);
    expect(hit?.kind).toBe('exact');
    expect(hit?.entry.answer.text).toBe('about how big is the ring');
    expect(hit?.entry.answer.citations[0]?.anchor).toBe('a');
    expect(c.kind).toBe(kind);
  });

  it('hits on a similar question above the threshold, misses below it, picks the closest', async () => {
    const c = await open();
    await c.store(1, entry('q1', vec(1, 0, 0)));
    await c.store(1, entry('q2', vec(1, 0.3, 0)));
    const near = await c.lookup(1, 'other words', vec(1, 0.05, 0), []);
    expect(near).toMatchObject({ kind: 'similar', entry: { key: 'q1' } });
    expect(near?.similarity).toBeGreaterThan(0.99);
    expect(await c.lookup(1, 'far', vec(0, 1, 0), [])).toBeUndefined();
    expect(await c.lookup(1, 'no vector', undefined, [])).toBeUndefined();
    const stored = (await c.lookup(1, 'q1', undefined, []))?.entry.vector as Float32Array;
    expect(Array.from(stored)).toEqual(Array.from(vec(1, 0, 0)));
  });

  it('never serves a similar question naming other identifiers (codes, tickers, keys)', async () => {
    const c = await open();
    await c.store(1, entry('what does close code 4408 mean', vec(1, 0, 0), ['4408']));
    expect(await c.lookup(1, 'what does close code 4403 mean', vec(1, 0, 0), ['4403'])).toBeUndefined();
    expect(await c.lookup(1, 'what does code 4408 mean', vec(1, 0, 0), ['4408'])).toMatchObject({
      kind: 'similar',
    });
    expect((await c.lookup(1, 'what does close code 4408 mean', undefined, []))?.entry.ids).toEqual(['4408']);
  });

  it('is invalidated by a new index generation', async () => {
    const c = await open();
    await c.store(3, entry('q', vec(1, 0)));
    expect(await c.lookup(3, 'q', vec(1, 0), [])).toBeDefined();
    expect(await c.lookup(4, 'q', vec(1, 0), [])).toBeUndefined();
    expect(await c.lookup(4, 'other', vec(1, 0), [])).toBeUndefined();
  });

  it('forgets entries after their TTL', async () => {
    const c = await open(kind === 'redis' ? 150 : 1_000);
    await c.store(1, entry('q', vec(1, 0)));
    expect(await c.lookup(1, 'q', undefined, [])).toBeDefined();
    if (kind === 'redis') await new Promise((r) => setTimeout(r, 300));
    else clock += 1_001;
    expect(await c.lookup(1, 'q', undefined, [])).toBeUndefined();
    expect(await c.lookup(1, 'similar', vec(1, 0), [])).toBeUndefined();
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
