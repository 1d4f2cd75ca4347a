import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type QdrantDouble, qdrantDouble } from '../testing/ragDoubles.ts';
import { normalise } from './embed.ts';
import { databaseIndex, pointId, qdrantIndex, type VectorIndex, type VectorPoint } from './index.ts';
import type { StoredChunk } from './storage.ts';

const vec = (...xs: number[]) => normalise(Float32Array.from(xs));
const point = (path: string, n: number, vector: Float32Array): VectorPoint => ({
  id: `${path}#${n}`,
  path,
  heading: `H${n}`,
  anchor: `h${n}`,
  vector,
});
const stored = (p: VectorPoint): StoredChunk => ({
  id: p.id,
  path: p.path,
  ordinal: 0,
  heading: p.heading,
  anchor: p.anchor,
  sectionStart: 0,
  sectionEnd: 1,
  text: 'x',
  embedding: p.vector,
});

let qdrant: QdrantDouble;
beforeAll(async () => {
  qdrant = await qdrantDouble();
});
afterAll(() => qdrant.close());

// The same behaviour from both adapters: the embedded scan and Qdrant (the real client against
// the double).
const adapters: [string, () => Promise<{ index: VectorIndex; put(points: VectorPoint[]): Promise<void> }>][] =
  [
    [
      'database',
      async () => {
        let chunks: StoredChunk[] = [];
        return {
          index: databaseIndex(async () => chunks),
          async put(points) {
            chunks = points.map(stored);
          },
        };
      },
    ],
    [
      'qdrant',
      async () => {
        const index = qdrantIndex({ url: qdrant.url, collection: `c${Math.random().toString(36).slice(2)}` });
        await index.prepare(3, false);
        return {
          index,
          async put(points) {
            for (const path of new Set(points.map((p) => p.path)))
              await index.replace(
                path,
                points.filter((p) => p.path === path),
              );
          },
        };
      },
    ],
  ];

describe.each(adapters)('%s vector index', (_, make) => {
  it('finds the nearest vectors, best first, filtered by document', async () => {
    const { index, put } = await make();
    await put([
      point('docs/a.md', 0, vec(1, 0, 0)),
      point('docs/a.md', 1, vec(0, 1, 0)),
      point('docs/b.md', 0, vec(0.9, 0.1, 0)),
    ]);
    const hits = await index.search(vec(1, 0, 0), 2);
    expect(hits.map((h) => h.id)).toEqual(['docs/a.md#0', 'docs/b.md#0']);
    expect(hits[0]?.score).toBeCloseTo(1, 5);
    const onlyB = await index.search(vec(1, 0, 0), 5, { paths: ['docs/b.md'] });
    expect(onlyB.map((h) => h.id)).toEqual(['docs/b.md#0']);
    expect(await index.count()).toBe(3);
    expect(await index.healthy()).toBe(true);
  });
});

describe('qdrant index (real @qdrant/js-client-rest against the double)', () => {
  it('creates the collection with a keyword index on path, and recreates it for another size or a reset', async () => {
    const index = qdrantIndex({ url: qdrant.url, collection: 'prep' });
    const before = qdrant.requests.length;
    await index.prepare(3, false);
    const sent = qdrant.requests.slice(before).map((r) => `${r.method} ${r.path}`);
    expect(sent).toEqual([
      'GET /collections/prep/exists',
      'PUT /collections/prep',
      'PUT /collections/prep/index',
    ]);
    expect(qdrant.requests.at(-2)?.body).toEqual({ vectors: { size: 3, distance: 'Cosine' } });
    expect(qdrant.requests.at(-1)?.body).toEqual({ field_name: 'path', field_schema: 'keyword' });
    expect(qdrant.requests.at(-1)?.query.get('wait')).toBe('true');
    await index.replace('docs/a.md', [point('docs/a.md', 0, vec(1, 0, 0))]);
    await index.prepare(3, false); // same size: kept
    expect(await index.count()).toBe(1);
    await index.prepare(4, false); // another embedder's size: emptied
    expect(qdrant.collections.get('prep')?.size).toBe(4);
    expect(await index.count()).toBe(0);
    await index.replace('docs/a.md', [point('docs/a.md', 0, vec(1, 0, 0, 0))]);
    await index.prepare(4, true);
    expect(await index.count()).toBe(0);
  });

  it('upserts points with their payload, then drops only that document’s stale points', async () => {
    const index = qdrantIndex({ url: qdrant.url, collection: 'repl' });
    await index.prepare(3, false);
    await index.replace('docs/a.md', [
      point('docs/a.md', 0, vec(1, 0, 0)),
      point('docs/a.md', 1, vec(0, 1, 0)),
    ]);
    await index.replace('docs/b.md', [point('docs/b.md', 0, vec(0, 0, 1))]);
    const before = qdrant.requests.length;
    await index.replace('docs/a.md', [point('docs/a.md', 0, vec(1, 1, 0))]);
    const [upsert, del] = qdrant.requests.slice(before);
    expect(`${upsert?.method} ${upsert?.path}`).toBe('PUT /collections/repl/points');
    expect(upsert?.query.get('wait')).toBe('true');
    expect(upsert?.body).toMatchObject({
      points: [
        {
          id: pointId('docs/a.md#0'),
          payload: { chunk: 'docs/a.md#0', path: 'docs/a.md', heading: 'H0', anchor: 'h0' },
        },
      ],
    });
    expect(`${del?.method} ${del?.path}`).toBe('POST /collections/repl/points/delete');
    expect(del?.body).toEqual({
      filter: {
        must: [{ key: 'path', match: { value: 'docs/a.md' } }],
        must_not: [{ has_id: [pointId('docs/a.md#0')] }],
      },
    });
    const points = [...(qdrant.collections.get('repl')?.points.values() ?? [])];
    expect(points.map((p) => p.payload.chunk).sort()).toEqual(['docs/a.md#0', 'docs/b.md#0']);
    await index.remove(['docs/a.md', 'docs/b.md']);
    expect(qdrant.requests.at(-1)?.body).toEqual({
      filter: { must: [{ key: 'path', match: { any: ['docs/a.md', 'docs/b.md'] } }] },
    });
    expect(await index.count()).toBe(0);
  });

  it('searches with the query API, a payload filter and only the chunk id in the payload', async () => {
    const index = qdrantIndex({ url: qdrant.url, collection: 'srch' });
    await index.prepare(3, false);
    await index.replace('docs/a.md', [point('docs/a.md', 0, vec(1, 0, 0))]);
    await index.search(vec(1, 0, 0), 7, { paths: ['docs/a.md'] });
    const q = qdrant.requests.at(-1);
    expect(`${q?.method} ${q?.path}`).toBe('POST /collections/srch/points/query');
    expect(q?.body).toMatchObject({
      limit: 7,
      with_payload: ['chunk'],
      filter: { must: [{ key: 'path', match: { value: 'docs/a.md' } }] },
    });
    expect((q?.body as { query: number[] } | undefined)?.query).toHaveLength(3);
  });

  it('makes point ids UUIDs, stable per chunk', () => {
    expect(pointId('docs/a.md#0')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(pointId('docs/a.md#0')).toBe(pointId('docs/a.md#0'));
    expect(pointId('docs/a.md#1')).not.toBe(pointId('docs/a.md#0'));
  });

  it('reports a Qdrant that is down as unhealthy and fails its calls', async () => {
    const index = qdrantIndex({ url: qdrant.url, collection: 'down' });
    await index.prepare(3, false);
    qdrant.down = true;
    try {
      expect(await index.healthy()).toBe(false);
      await expect(index.search(vec(1, 0, 0), 3)).rejects.toThrow();
    } finally {
      qdrant.down = false;
    }
  });
});
