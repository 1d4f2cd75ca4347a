import { describe, expect, it } from 'vitest';
import type { Passage } from './answer.ts';
import { lexicalReranker, lexicalScore, llmReranker, parseRanking } from './rerank.ts';

const p = (id: string, heading: string, text: string): Passage => ({
  id,
  path: 'docs/x.md',
  heading,
  anchor: id,
  text,
});
const idf = () => 1;

describe('lexical re-ranker', () => {
  it('prefers a passage covering all the question terms close together', () => {
    const scattered = p(
      's',
      'Misc',
      'The ring is described elsewhere. Many words later we talk of replay and of size.',
    );
    const tight = p('t', 'Misc', 'The replay ring size is set by one setting.');
    expect(lexicalScore('replay ring size', tight, idf)).toBeGreaterThan(
      lexicalScore('replay ring size', scattered, idf),
    );
  });

  it('lets a matching heading lift a passage past an earlier fused rank', async () => {
    const passages = [
      p('a', 'Intro', 'Tape has many parts, orders among them.'),
      p('b', 'Kill switch', 'An admin turns the kill switch on and every new order is refused.'),
    ];
    const ranked = await lexicalReranker(idf).rerank('how does the kill switch work', passages);
    expect(ranked.map((x) => x.id)).toEqual(['b', 'a']);
  });

  it('keeps the fused order when nothing tells the passages apart', async () => {
    const passages = [p('a', 'X', 'same words'), p('b', 'X', 'same words'), p('c', 'X', 'same words')];
    expect((await lexicalReranker(idf).rerank('same', passages)).map((x) => x.id)).toEqual(['a', 'b', 'c']);
  });
});

describe('LLM re-ranker', () => {
  const passages = [p('a', 'A', 'alpha'), p('b', 'B', 'beta'), p('c', 'C', 'gamma')];
  const lexical = { kind: 'lexical' as const, rerank: async (_q: string, ps: readonly Passage[]) => [...ps] };

  it('parses the ranking, dropping bad numbers and appending the missing ones', () => {
    expect(parseRanking('{"ranking":[3,1]}', 3)).toEqual([2, 0, 1]);
    expect(parseRanking('Sure! {"ranking": [2, 2, 9, "x", 0, 1]}', 3)).toEqual([1, 0, 2]);
    expect(parseRanking('{"ranking":[]}', 3)).toBeUndefined();
    expect(parseRanking('no json', 3)).toBeUndefined();
    expect(parseRanking('{"ranking": 1', 3)).toBeUndefined();
  });

  it("orders by the model's ranking", async () => {
    const r = llmReranker(async () => '{"ranking":[3,2,1]}', lexical);
    expect((await r.rerank('q', passages)).map((x) => x.id)).toEqual(['c', 'b', 'a']);
  });

  it('falls back to the lexical order on a bad reply or a failure, saying why', async () => {
    const reasons: string[] = [];
    const bad = llmReranker(
      async () => 'I think the second one',
      lexical,
      (r) => reasons.push(r),
    );
    const down = llmReranker(
      async () => {
        throw new Error('no host');
      },
      lexical,
      (r) => reasons.push(r),
    );
    expect((await bad.rerank('q', passages)).map((x) => x.id)).toEqual(['a', 'b', 'c']);
    expect((await down.rerank('q', passages)).map((x) => x.id)).toEqual(['a', 'b', 'c']);
    expect(reasons).toEqual(['the ranking reply was not the JSON asked for', 'no host']);
  });
});
