import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AnswerEvent, answerReader, encodeEvent, normaliseQuestion } from './assistant.ts';

const event: fc.Arbitrary<AnswerEvent> = fc.oneof(
  fc.record({
    type: fc.constant('meta' as const),
    mode: fc.constantFrom('llm' as const, 'extractive' as const),
    citations: fc.array(
      fc.record({ n: fc.nat(), path: fc.string(), heading: fc.string(), anchor: fc.string() }),
      { maxLength: 3 },
    ),
    cached: fc.boolean(),
  }),
  fc.record({ type: fc.constant('delta' as const), text: fc.string({ unit: 'binary' }) }),
  fc.constant({ type: 'done' as const }),
  fc.record({ type: fc.constant('done' as const), error: fc.string() }),
);

// Splits a string at arbitrary points.
const pieces = (s: string, cuts: number[]) => {
  const at = [...new Set(cuts.map((c) => c % (s.length + 1)))].sort((a, b) => a - b);
  return [0, ...at].map((from, i) => s.slice(from, at[i] ?? s.length));
};

describe('answerReader', () => {
  it('reads back any events however the stream is cut', () => {
    fc.assert(
      fc.property(
        fc.array(event, { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (events, cuts) => {
          const wire = events.map(encodeEvent).join('');
          const r = answerReader();
          const got = [...pieces(wire, cuts).flatMap((p) => r.push(p)), ...r.end()];
          expect(got).toEqual(events);
        },
      ),
    );
  });

  it('never throws on arbitrary text, and every valid line around garbage survives', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(event.map(encodeEvent), fc.string({ unit: 'binary' }))), (parts) => {
        const r = answerReader(200);
        const got = [...r.push(parts.join('')), ...r.end()];
        for (const g of got) expect(['meta', 'delta', 'done', 'invalid']).toContain(g.type);
      }),
    );
    const r = answerReader();
    const got = r.push('{"type":"delta","text":"a"}\nnot json\n{"type":"shout"}\n[1]\n{"type":"done"}\n');
    expect(got.map((g) => g.type)).toEqual(['delta', 'invalid', 'invalid', 'invalid', 'done']);
  });

  it('reports an over-long line once and skips it without buffering it', () => {
    const r = answerReader(50);
    const got = [...r.push('x'.repeat(40)), ...r.push('y'.repeat(40)), ...r.push('z'.repeat(500))];
    expect(got).toEqual([{ type: 'invalid', reason: 'a line is over 50 characters' }]);
    expect(r.push('tail\n{"type":"done"}\n')).toEqual([{ type: 'done' }]);
  });

  it('rejects events of the wrong shape with a reason', () => {
    const r = answerReader();
    const got = r.push(
      '{"type":"meta","mode":"oracle","citations":[]}\n{"type":"meta","mode":"llm","citations":[{"n":"1"}]}\n{"type":"delta","text":3}\n',
    );
    expect(got).toEqual([
      { type: 'invalid', reason: 'meta: bad mode' },
      { type: 'invalid', reason: 'meta: bad citations' },
      { type: 'invalid', reason: 'delta: text is not a string' },
    ]);
  });
});

describe('normaliseQuestion', () => {
  it('ignores case, accents, punctuation and spacing', () => {
    expect(normaliseQuestion('  Como  REINICIO o servidor?? ')).toBe('como reinicio o servidor');
    expect(normaliseQuestion('Qual é a porta?')).toBe(normaliseQuestion('qual e a PORTA'));
    expect(normaliseQuestion('What is TAPE_REPLAY_RING?')).toBe('what is tape replay ring');
  });
});
