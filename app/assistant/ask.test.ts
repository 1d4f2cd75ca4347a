import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AnswerEvent, encodeEvent } from '../../sync-server/shared/assistant.ts';
import { applyEvent, emptyAnswer, readAnswer } from './ask.ts';

const streamOf = (chunks: Uint8Array[]) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (const x of chunks) c.enqueue(x);
      c.close();
    },
  });

// Cuts bytes at arbitrary points, including inside a multi-byte character.
const cut = (bytes: Uint8Array, at: number[]) => {
  const points = [...new Set(at.map((a) => a % (bytes.length + 1)))].sort((a, b) => a - b);
  return [0, ...points].map((from, i) => bytes.slice(from, points[i] ?? bytes.length));
};

const events: AnswerEvent[] = [
  {
    type: 'meta',
    mode: 'extractive',
    cached: false,
    citations: [
      { n: 1, path: 'docs/operations.md', heading: 'Operating Tape › Settings', anchor: 'settings' },
    ],
  },
  { type: 'delta', text: 'Preço: R$ 38,50 — ação PETR4 ✓ ' },
  { type: 'delta', text: 'e mais 🙂 [1]' },
  { type: 'done' },
];

describe('readAnswer', () => {
  it('reads the events however the bytes are cut, even inside a character', async () => {
    const bytes = new TextEncoder().encode(events.map(encodeEvent).join(''));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { maxLength: 40 }), async (at) => {
        const got: AnswerEvent[] = [];
        const invalid = await readAnswer(streamOf(cut(bytes, at)), (e) => got.push(e));
        expect(invalid).toBe(0);
        expect(got).toEqual(events);
      }),
    );
  });

  it('skips what is not an event and counts it, never throwing on arbitrary bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 10 }), async (chunks) => {
        const got: AnswerEvent[] = [];
        await readAnswer(streamOf(chunks), (e) => got.push(e));
        for (const e of got) expect(['meta', 'delta', 'done']).toContain(e.type);
      }),
    );
    const got: AnswerEvent[] = [];
    const bytes = new TextEncoder().encode('garbage\n{"type":"delta","text":"ok"}\n{"type":"nope"}\n');
    expect(await readAnswer(streamOf([bytes]), (e) => got.push(e))).toBe(2);
    expect(got).toEqual([{ type: 'delta', text: 'ok' }]);
  });
});

describe('applyEvent', () => {
  it('builds the shown answer: mode and citations, the text as it grows, then done', () => {
    const a = events.reduce(applyEvent, emptyAnswer('q'));
    expect(a).toMatchObject({ question: 'q', mode: 'extractive', done: true, error: undefined });
    expect(a.text).toBe('Preço: R$ 38,50 — ação PETR4 ✓ e mais 🙂 [1]');
    expect(a.citations).toHaveLength(1);
  });

  it('keeps when a cached answer was made, and why an answer stopped short', () => {
    const cached = applyEvent(emptyAnswer('q'), {
      type: 'meta',
      mode: 'llm',
      citations: [],
      cached: true,
      cachedAt: 42,
    });
    expect(cached.cachedAt).toBe(42);
    expect(applyEvent(cached, { type: 'done', error: 'cut' })).toMatchObject({ done: true, error: 'cut' });
  });
});
