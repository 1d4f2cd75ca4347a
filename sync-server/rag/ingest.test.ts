import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../store/db.ts';
import { RagStore } from '../store/rag.ts';
import { testBackends } from '../store/testing.ts';
import { type QdrantDouble, qdrantDouble } from '../testing/ragDoubles.ts';
import { type Embedder, LEXICAL_ID, normalise } from './embed.ts';
import { databaseIndex, qdrantIndex, type VectorIndex } from './index.ts';
import { describeIngest, type IngestDeps, ingest } from './ingest.ts';
import { progressBar } from './progress.ts';

// Ingest against the real database (PGlite, and PostgreSQL when DATABASE_URL is set), on
// markdown files written to a temporary directory.

const doc = (title: string, words: string) =>
  `# ${title}\n\nIntro of ${title}.\n\n## Details\n\n${words}\n\n## More\n\nMore about ${title}: ${words}.\n`;

describe.each(testBackends())('ingest on $name', (backend) => {
  let db: Database;
  let store: RagStore;
  let dir: string;
  let qdrant: QdrantDouble;
  let base = 0; // the generation before each test
  const write = (rel: string, text: string) => {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  };
  const run = (over: Partial<IngestDeps> = {}) =>
    ingest({
      store,
      index: databaseIndex(() => store.chunks()),
      embedding: 'lexical',
      sources: [{ label: 'docs', dir }],
      refitShare: 10, // these tests look at incremental work; refits have their own test
      ...over,
    });

  beforeAll(async () => {
    qdrant = await qdrantDouble();
    db = await backend.open();
    store = new RagStore(db.sql);
  });
  afterAll(async () => {
    await qdrant.close();
    await db.close();
  });
  beforeEach(async () => {
    // One database per backend (opening PGlite is slow); each test starts from an empty index.
    await store.reset();
    base = await store.generation();
    dir = mkdtempSync(join(tmpdir(), 'tape-rag-'));
    write('replay.md', doc('Replay', 'The ring keeps ten thousand events per ticker.'));
    write('orders.md', doc('Orders', 'Risk checks run before the DLL sends an order.'));
    write('desk/notes.md', doc('Desk notes', 'Call the broker before the auction.'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('indexes every markdown file with heading-aware chunks and their vectors, then reports', async () => {
    const lines: string[] = [];
    const s = await run({ progress: progressBar({ isTTY: false, write: (x: string) => lines.push(x) }) });
    expect(s).toMatchObject({
      files: 3,
      added: 3,
      updated: 0,
      removed: 0,
      unchanged: 0,
      errors: [],
      generation: base + 1,
    });
    expect(s.refit).toBe(true); // the first ingest fits the IDF
    const chunks = await store.chunks();
    expect(chunks.length).toBe(s.chunks);
    expect(new Set(chunks.map((c) => c.path))).toEqual(
      new Set(['docs/replay.md', 'docs/orders.md', 'docs/desk/notes.md']),
    );
    expect(chunks.find((c) => c.path === 'docs/replay.md' && c.anchor === 'details')?.heading).toBe(
      'Replay › Details',
    );
    expect(chunks.every((c) => c.embedding.length === 1024)).toBe(true);
    const state = await store.state();
    expect(state.embedder).toBe(LEXICAL_ID);
    expect(state.idf?.length).toBe(1024);
    expect(lines[0]).toBe('0/3 files 0%\n');
    expect(lines.at(-1)).toMatch(/^3\/3 files 100%/);
    expect(describeIngest(s)).toMatch(
      /^3 files: 3 added, 0 updated, 0 removed, 0 unchanged; \d+ chunks embedded/,
    );
    const section = await store.section('docs/replay.md', 'details');
    expect(section?.text).toBe('## Details\n\nThe ring keeps ten thousand events per ticker.\n\n');
  });

  it('is incremental: nothing to do when nothing changed; a changed file alone is embedded again; a deleted one is removed', async () => {
    const first = await run();
    const again = await run();
    expect(again).toMatchObject({
      added: 0,
      updated: 0,
      removed: 0,
      unchanged: 3,
      embeddedChunks: 0,
      generation: base + 1,
    });

    write('orders.md', doc('Orders', 'Risk checks run first. The kill switch refuses every new order.'));
    const changed = await run();
    const orderChunks = (await store.chunks()).filter((c) => c.path === 'docs/orders.md');
    expect(changed).toMatchObject({ added: 0, updated: 1, unchanged: 2, refit: false, generation: base + 2 });
    expect(changed.embeddedChunks).toBe(orderChunks.length);
    expect(orderChunks.some((c) => c.text.includes('kill switch'))).toBe(true);

    unlinkSync(join(dir, 'desk/notes.md'));
    const removed = await run();
    expect(removed).toMatchObject({ removed: 1, embeddedChunks: 0, generation: base + 3 });
    expect((await store.hashes()).has('docs/desk/notes.md')).toBe(false);
    expect((await store.chunks()).some((c) => c.path === 'docs/desk/notes.md')).toBe(false);
    expect(first.chunks).toBeGreaterThan(removed.chunks);
  });

  it('reports a file it cannot read by name, goes on with the rest, and keeps its stored version', async () => {
    await run();
    unlinkSync(join(dir, 'orders.md'));
    symlinkSync(join(dir, 'gone.md'), join(dir, 'orders.md')); // a dangling link: unreadable
    write('new.md', doc('New', 'A new page.'));
    const s = await run();
    expect(s.errors).toEqual([
      { path: 'docs/orders.md', message: expect.stringMatching(/^cannot read: ENOENT/) },
    ]);
    expect(s).toMatchObject({ added: 1, removed: 0 });
    expect((await store.hashes()).has('docs/orders.md')).toBe(true);
  });

  it('keeps the documents of a directory it cannot list', async () => {
    await run();
    const s = await run({ sources: [{ label: 'docs', dir: join(dir, 'missing') }] });
    expect(s.errors[0]?.message).toMatch(/^cannot list the directory/);
    expect(s.removed).toBe(0);
    expect((await store.hashes()).size).toBe(3);
  });

  it('refits the IDF once enough of the corpus changed, and embeds everything again then', async () => {
    const first = await run({ refitShare: 0.2 });
    write('orders.md', doc('Orders', 'Completely rewritten words about fills and positions.'));
    const s = await run({ refitShare: 0.2 });
    expect(s.refit).toBe(true);
    expect(s.embeddedChunks).toBe(first.chunks);
  });

  it('embeds everything again when the embedder changes', async () => {
    await run();
    const calls: number[] = [];
    const other: Embedder = {
      id: 'test/other',
      embed: async (texts) => {
        calls.push(texts.length);
        return texts.map((t) => normalise(Float32Array.from([t.length, 1, 2])));
      },
    };
    const s = await run({ embedding: other });
    expect(s.embeddedChunks).toBe(s.chunks);
    expect((await store.state()).embedder).toBe('test/other');
    expect((await store.chunks()).every((c) => c.embedding.length === 3)).toBe(true);
  });

  it('cuts every document again when the chunking changes', async () => {
    const first = await run();
    const s = await run({ chunking: { maxChars: 40, overlapChars: 5 } });
    expect(s.embeddedChunks).toBeGreaterThan(first.chunks);
    expect((await store.state()).chunking).toBe('chunker-v2/40/5');
    expect((await store.chunks()).every((c) => c.text.length <= 40)).toBe(true);
  });

  it('stops between files when aborted, keeping what it did', async () => {
    const ctl = new AbortController();
    ctl.abort();
    const s = await run({ signal: ctl.signal });
    expect(s).toMatchObject({ aborted: true, added: 0 });
  });

  it('with Qdrant: fills the collection, and refills it from the database (no embedding) when it lost its points', async () => {
    const collection = `ingest_${backend.name}_${Math.random().toString(36).slice(2)}`;
    const index: VectorIndex = qdrantIndex({ url: qdrant.url, collection });
    const first = await run({ index });
    expect(qdrant.collections.get(collection)?.points.size).toBe(first.chunks);
    qdrant.collections.get(collection)?.points.clear();
    const s = await run({ index });
    expect(s).toMatchObject({ refilled: true, embeddedChunks: 0 });
    expect(qdrant.collections.get(collection)?.points.size).toBe(first.chunks);
    const again = await run({ index });
    expect(again.refilled).toBe(false);
  });
});
