import { describe, expect, it } from 'vitest';
import { bm25Index } from './bm25.ts';

const docs = [
  { id: 'a', heading: 'Backpressure', text: 'A slow consumer is conflated, then closed.' },
  {
    id: 'b',
    heading: 'Replay',
    text: 'The ring keeps events; replay serves a gap from the ring or the ticks table.',
  },
  { id: 'c', heading: 'Orders', text: 'Orders pass risk checks. Orders are idempotent on clientOrderId.' },
  { id: 'd', heading: 'Settings', text: 'TAPE_REPLAY_RING sets the ring size.' },
];

describe('bm25Index', () => {
  const index = bm25Index(docs);

  it('ranks the chunk that has the rare query terms first', () => {
    expect(index.search('how is a gap replayed?', 4)[0]?.id).toBe('b');
    expect(index.search('slow consumer', 4).map((s) => s.id)).toEqual(['a']);
  });

  it('counts the heading: a question naming a section finds it', () => {
    expect(index.search('orders', 4)[0]?.id).toBe('c');
    expect(index.search('backpressure', 4)[0]?.id).toBe('a');
  });

  it('filters, limits, and scores nothing for unknown terms', () => {
    expect(index.search('ring', 4, (id) => id !== 'b').map((s) => s.id)).toEqual(['d']);
    expect(index.search('ring', 1)).toHaveLength(1);
    expect(index.search('zebra', 4)).toEqual([]);
    expect(index.idf('zebra')).toBe(0);
    expect(index.idf('ring')).toBeLessThan(index.idf('idempotent'));
  });
});
