import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Principal } from '../auth/tokens.ts';
import { BATCH_MAX_DELAY_MS, decodeBatch, isBatch } from '../shared/market.ts';
import type { WsSession } from '../ws.ts';
import { SocketBatcher } from './batch.ts';

// Batch mode changes how many WebSocket messages a socket gets, never what it gets: the same
// messages in the same order as without it, each at most BATCH_MAX_DELAY_MS late, a batch at
// most MAX bytes past its limit by one message.

interface Sent {
  at: number;
  message: Uint8Array | string;
}

function fakeSession(sent: Sent[]): WsSession {
  return {
    principal: { userId: 1, username: 'u', role: 'trader' } as Principal,
    expiresAt: Number.MAX_SAFE_INTEGER,
    params: {},
    send(message) {
      sent.push({ at: Date.now(), message: typeof message === 'string' ? message : message.slice() });
      return 1;
    },
    subscribe: () => true,
    unsubscribe: () => true,
    bufferedAmount: () => 0,
    cork: (fn) => fn(),
    close() {},
  };
}

/** The messages a socket got, batches opened: what it would have got without batching. */
const unwrapped = (sent: readonly Sent[]) =>
  sent.flatMap((s) =>
    typeof s.message !== 'string' && isBatch(s.message)
      ? decodeBatch(s.message).map((m) => (typeof m === 'string' ? m : Uint8Array.from(m)))
      : [s.message],
  );

type Op =
  | { op: 'publish'; topic: number; binary: boolean; size: number }
  | { op: 'send' }
  | { op: 'sub'; topic: number }
  | { op: 'unsub'; topic: number }
  | { op: 'wait'; ms: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('publish' as const),
      topic: fc.nat({ max: 3 }),
      binary: fc.boolean(),
      size: fc.nat({ max: 3_000 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('send' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('sub' as const), topic: fc.nat({ max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unsub' as const), topic: fc.nat({ max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('wait' as const), ms: fc.nat({ max: 20 }) }) },
);

describe('SocketBatcher', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends what an unbatched socket would get, in order, each message within the delay bound', () => {
    const MAX = 8 * 1024;
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const batcher = new SocketBatcher(BATCH_MAX_DELAY_MS, MAX);
        const sent: Sent[] = [];
        const b = batcher.add(fakeSession(sent));
        // The reference: what the socket is sent without batching, and when each was published.
        const expected: Array<Uint8Array | string> = [];
        const publishedAt: number[] = [];
        const subscribed = new Set<number>();
        let n = 0;
        for (const o of ops) {
          if (o.op === 'wait') vi.advanceTimersByTime(o.ms);
          else if (o.op === 'sub') {
            subscribed.add(o.topic);
            batcher.subscribe(b, `md/trades/T${o.topic}`);
          } else if (o.op === 'unsub') {
            subscribed.delete(o.topic);
            batcher.unsubscribe(b, `md/trades/T${o.topic}`);
          } else if (o.op === 'send') {
            const m = JSON.stringify({ type: 'pong', id: n++ });
            expected.push(m);
            publishedAt.push(Date.now());
            batcher.send(b, m, false);
          } else {
            const id = n++;
            const m = o.binary
              ? Uint8Array.from({ length: o.size + 8 }, (_, i) => (i < 4 ? (id >> (8 * i)) & 255 : i & 255))
              : JSON.stringify({ type: 'top', id, pad: 'x'.repeat(o.size) });
            if (o.binary) (m as Uint8Array)[1] = 1; // a trades frame's kind, never a batch's
            if (subscribed.has(o.topic)) {
              expected.push(m);
              publishedAt.push(Date.now());
            }
            batcher.publish(`md/trades/T${o.topic}`, m);
          }
        }
        vi.advanceTimersByTime(BATCH_MAX_DELAY_MS);
        expect(unwrapped(sent)).toEqual(expected);
        // When each message went out: never later than the bound after it was published.
        const deliveredAt = sent.flatMap((s) =>
          typeof s.message !== 'string' && isBatch(s.message)
            ? decodeBatch(s.message).map(() => s.at)
            : [s.at],
        );
        deliveredAt.forEach((at, i) => {
          expect(at - (publishedAt[i] as number)).toBeLessThanOrEqual(BATCH_MAX_DELAY_MS);
        });
        // A batch goes out once it holds MAX bytes: it is at most one message past that.
        for (const s of sent) expect(s.message.length).toBeLessThan(MAX + 3_100 + 64);
        batcher.stop();
      }),
      { numRuns: 500 },
    );
  });

  it('sends one message as itself and several as one batch frame', () => {
    const batcher = new SocketBatcher();
    const sent: Sent[] = [];
    const b = batcher.add(fakeSession(sent));
    batcher.subscribe(b, 'md/trades/PETR4');
    batcher.publish('md/trades/PETR4', '{"type":"top"}');
    vi.advanceTimersByTime(BATCH_MAX_DELAY_MS);
    expect(sent.map((s) => s.message)).toEqual(['{"type":"top"}']);
    for (let i = 0; i < 5; i++) batcher.publish('md/trades/PETR4', Uint8Array.of(1, 1, 0, i));
    vi.advanceTimersByTime(BATCH_MAX_DELAY_MS - 1);
    expect(sent).toHaveLength(1); // still held
    vi.advanceTimersByTime(1);
    expect(sent).toHaveLength(2);
    expect(decodeBatch(sent[1]?.message as Uint8Array)).toHaveLength(5);
  });

  it('a closed socket is sent nothing more, and nothing it held', () => {
    const batcher = new SocketBatcher();
    const sent: Sent[] = [];
    const b = batcher.add(fakeSession(sent));
    batcher.subscribe(b, 'md/book/PETR4');
    batcher.publish('md/book/PETR4', Uint8Array.of(1, 2, 0));
    batcher.remove(b);
    batcher.publish('md/book/PETR4', Uint8Array.of(1, 2, 0));
    vi.advanceTimersByTime(BATCH_MAX_DELAY_MS * 2);
    expect(sent).toEqual([]);
  });
});
