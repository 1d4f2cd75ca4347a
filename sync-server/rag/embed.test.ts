import { describe, expect, it } from 'vitest';
import { bytesVector, dot, fitIdf, LEXICAL_DIM, lexicalEmbedder, vectorBytes } from './embed.ts';
import { stem, terms } from './text.ts';

const corpus = [
  'The replay ring keeps the last events per ticker for replay after a gap.',
  'Orders go through risk checks before the DLL sends them to the broker.',
  'Backpressure: a slow consumer socket is conflated, then closed with 4408.',
  'Shared watchlists are Yjs documents edited by several traders at once.',
];

describe('terms', () => {
  it('folds case and accents, drops stop words, stems inflections together', () => {
    expect(terms('The Orders were SUBSCRIBED; subscribing subscribes')).toEqual([
      'order',
      'subscrib',
      'subscrib',
      'subscrib',
    ]);
    expect(terms('Ação e preço')).toEqual(['acao', 'preco']);
    expect(stem('replays')).toBe(stem('replayed'));
    expect(stem('4408')).toBe('4408');
    expect(terms('TAPE_REPLAY_RING')).toEqual(['tape', 'replay', 'ring']);
  });
});

describe('lexical embedding', () => {
  const embedder = lexicalEmbedder(fitIdf(corpus));

  it('gives unit vectors of the fixed dimension, the same for the same text', async () => {
    const [a, b] = await embedder.embed([corpus[0] as string, corpus[0] as string]);
    expect(a?.length).toBe(LEXICAL_DIM);
    expect(dot(a as Float32Array, a as Float32Array)).toBeCloseTo(1, 5);
    expect(a).toEqual(b);
    const [empty] = await embedder.embed(['']);
    expect(dot(empty as Float32Array, empty as Float32Array)).toBe(0);
  });

  it('puts a paraphrase nearer its source than an unrelated text', async () => {
    const docs = await embedder.embed(corpus);
    const [q] = await embedder.embed(['which socket gets closed for being a slow consumer?']);
    const scores = docs.map((d) => dot(q as Float32Array, d));
    expect(scores.indexOf(Math.max(...scores))).toBe(2);
  });

  it('char n-grams match an inflected form the word features miss', async () => {
    const [q, d, other] = await embedder.embed(['conflation', 'conflated sockets', 'watchlists of traders']);
    expect(dot(q as Float32Array, d as Float32Array)).toBeGreaterThan(
      dot(q as Float32Array, other as Float32Array),
    );
  });

  it('weights rare buckets above common ones (IDF)', () => {
    const idf = fitIdf(['alpha beta', 'alpha gamma', 'alpha delta']);
    expect(Math.max(...idf)).toBeGreaterThan(Math.min(...idf));
  });

  it('round-trips vectors through their stored bytes exactly', async () => {
    const [v] = await embedder.embed([corpus[1] as string]);
    expect(bytesVector(vectorBytes(v as Float32Array))).toEqual(v);
  });
});
