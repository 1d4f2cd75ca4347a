import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Principal } from '../auth/tokens.ts';
import { decodeFrame, encodeTrades, FrameKind, type ServerMessage } from '../shared/market.ts';
import { sampleTrade } from '../testing/market.ts';
import { login, startTestServer, type TestServer } from '../testing/server.ts';
import { until } from '../testing/until.ts';
import type { WsSession } from '../ws.ts';
import type { MarketService } from './service.ts';
import { CONTROL_RATE, MAX_CONTROL_BYTES, marketEndpoint } from './session.ts';

// Hostile input on /ws: every control message a client can send (any JSON value, any string,
// any bytes, near-misses of the real messages) gets an `error` with a reason or its normal
// answer, never an exception; oversized messages and floods close only the offender with a
// documented code while a well-behaved client keeps its ticks.

const TICKERS = ['PETR4', 'VALE3'];
/** The documented error codes (docs/protocol.md) plus the rate limit. */
const ERROR_CODES = new Set([
  'bad_json',
  'bad_message',
  'unknown_ticker',
  'binary_not_expected',
  'replay_failed',
  'rate_limited',
]);
const ANSWERS = new Set(['pong', 'subscribed', 'unsubscribed', 'error']);

// Messages near the real ones: right `type`, fields of the wrong type, range or shape.
const tickerish = fc.oneof(
  fc.constantFrom(...TICKERS, 'NOPE3', 'petr4', '', 'PETR4 ', 'X'.repeat(13), '__proto__'),
  fc.string({ maxLength: 14 }),
);
const nearMiss = fc.oneof(
  fc.record(
    {
      type: fc.constantFrom('sub', 'unsub'),
      channel: fc.oneof(fc.constantFrom('trades', 'book', 'candles', 'quotes'), fc.anything()),
      tickers: fc.oneof(fc.array(tickerish, { maxLength: 6 }), fc.anything()),
      since: fc.oneof(
        fc.dictionary(
          tickerish,
          fc.oneof(fc.integer({ min: -5, max: 1_000_000 }), fc.double(), fc.anything()),
          {
            maxKeys: 3,
          },
        ),
        fc.anything(),
      ),
      sinceTrade: fc.oneof(
        fc.dictionary(
          tickerish,
          fc.oneof(
            fc.record({
              tradeNumber: fc.oneof(fc.nat(), fc.integer(), fc.double()),
              time: fc.oneof(fc.double(), fc.nat()),
            }),
            fc.anything(),
          ),
          { maxKeys: 3 },
        ),
        fc.anything(),
      ),
    },
    { requiredKeys: ['type'] },
  ),
  fc.record(
    { type: fc.constant('ping'), id: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null)) },
    {
      requiredKeys: ['type'],
    },
  ),
  fc.record({
    type: fc.constant('auth'),
    token: fc.oneof(fc.constant(''), fc.integer(), fc.string({ maxLength: 5000 })),
  }),
  fc.record({ type: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.constant('__proto__')) }),
);
/** What a client can put on the wire: [payload, isBinary]. */
const wireMessage: fc.Arbitrary<[string | Uint8Array, boolean]> = fc.oneof(
  fc.anything({ maxDepth: 4 }).map((v) => [JSON.stringify(v) ?? 'undefined', false] as [string, boolean]),
  fc.jsonValue({ maxDepth: 6 }).map((v) => [JSON.stringify(v), false] as [string, boolean]),
  nearMiss.map((v) => [JSON.stringify(v), false] as [string, boolean]),
  fc.string({ unit: 'binary', maxLength: 200 }).map((s) => [s, false] as [string, boolean]),
  fc.integer({ min: 1, max: 3000 }).map((n) => ['['.repeat(n) + ']'.repeat(n), false] as [string, boolean]),
  fc.uint8Array({ maxLength: 300 }).map((b) => [b, true] as [Uint8Array, boolean]),
  // Invalid UTF-8 in a text frame is refused by uWS itself; as the endpoint sees it:
  fc
    .uint8Array({ maxLength: 100 })
    .map((b) => [Uint8Array.from([0x7b, 0xff, ...b]), false] as [Uint8Array, boolean]),
);
const toBuffer = (p: string | Uint8Array): ArrayBuffer => {
  const bytes = typeof p === 'string' ? new TextEncoder().encode(p) : p;
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
};

class FakeSession implements WsSession {
  readonly principal: Principal = { userId: 1, username: 'fuzz', role: 'trader' };
  readonly expiresAt = Date.now() + 3_600_000;
  readonly params = {};
  readonly sent: ServerMessage[] = [];
  closed: { code: number; reason: string } | undefined;
  send(message: string | Uint8Array) {
    if (typeof message === 'string') this.sent.push(JSON.parse(message) as ServerMessage);
    return 1;
  }
  subscribe() {
    return true;
  }
  unsubscribe() {
    return true;
  }
  bufferedAmount() {
    return 0;
  }
  cork(fn: () => void) {
    fn();
  }
  close(code: number, reason: string) {
    this.closed ??= { code, reason };
  }
}

const fakeMarket = {
  tickerList: TICKERS,
  instruments: [],
  connectorStatus: () => ({ login: 0, routing: 0, marketData: 4, activation: 0, connected: true }),
  agents: () => [],
  quote: () => undefined,
  bookFrame: () => undefined,
  candleFrame: () => undefined,
  backfillStatus: () => undefined,
  async catchUp(ticker: string, after: number) {
    if (after > 1000) throw new Error('history unavailable');
    return after % 2 === 0
      ? {
          kind: 'replay',
          frames: [encodeTrades(ticker, [sampleTrade(after + 1, { ticker })])],
          from: after + 1,
          to: after + 1,
        }
      : { kind: 'snapshot', reason: 'gap_too_large', quote: undefined, seq: after };
  },
} as unknown as MarketService;

describe('/ws control messages, endpoint level', () => {
  it('answers any message with its answer or an error naming the problem; never throws, never closes', async () => {
    const endpoint = marketEndpoint({
      market: fakeMarket,
      verify: () => {
        throw new Error('bad token');
      },
      onClientError: () => {},
      controlRate: { perSecond: 1e9, burst: 1e9 },
    });
    let n = 0;
    try {
      await fc.assert(
        fc.asyncProperty(wireMessage, async ([payload, isBinary]) => {
          n++;
          const s = new FakeSession();
          endpoint.open(s);
          const before = s.sent.length; // hello, connector
          endpoint.message(s, toBuffer(payload), isBinary);
          await new Promise((r) => setImmediate(r));
          const replies = s.sent.slice(before);
          const isAuth = replies.length === 0 && s.closed?.code === 4401;
          if (!isAuth) {
            expect(s.closed, `closed on ${String(payload).slice(0, 80)}`).toBeUndefined();
            const answer = replies.find((m) => ANSWERS.has(m.type));
            expect(answer, `an answer to ${String(payload).slice(0, 80)}`).toBeDefined();
            for (const m of replies) {
              if (m.type !== 'error') continue;
              expect(ERROR_CODES.has(m.code), m.code).toBe(true);
              expect(m.message.length).toBeGreaterThan(0);
            }
          }
          endpoint.close(s, 1000);
        }),
        { numRuns: 3000 },
      );
    } finally {
      endpoint.stop();
      console.log('fuzz-count', 'ws control json (endpoint)', n);
    }
  });

  it('drops a flood unread past the rate: one rate_limited error, then a 4429 close', () => {
    const endpoint = marketEndpoint({
      market: fakeMarket,
      verify: () => ({}) as never,
      onClientError: () => {},
    });
    const s = new FakeSession();
    endpoint.open(s);
    const ping = toBuffer(JSON.stringify({ type: 'ping', id: 1 }));
    let sent = 0;
    while (!s.closed && sent < 10_000) {
      endpoint.message(s, ping, false);
      sent++;
    }
    endpoint.stop();
    console.log('fuzz-count', 'ws flood messages (endpoint)', sent);
    const errors = s.sent.filter((m) => m.type === 'error');
    expect(errors).toEqual([expect.objectContaining({ code: 'rate_limited' })]);
    expect(s.sent.filter((m) => m.type === 'pong').length).toBeGreaterThanOrEqual(CONTROL_RATE.burst);
    expect(s.closed?.code).toBe(4429);
    // The burst, then as many again dropped, then the close: bounded work per offender.
    expect(sent).toBeLessThan(CONTROL_RATE.burst * 2 + 50);
  });
});

describe('/ws control messages against a real server', () => {
  let t: TestServer;
  let token: string;
  beforeAll(async () => {
    t = await startTestServer(process.env.DATABASE_URL ? 'postgres' : 'pglite', { TAPE_SIM_RATE: '50' });
    token = await login(t.url);
    await until(() => t.server.feed.status.connected, 'connector connected', 20_000);
  }, 60_000);
  afterAll(() => t?.close());

  interface Client {
    ws: WebSocket;
    messages: ServerMessage[];
    /** Called after every text message. */
    listeners: Set<() => void>;
    frames: number;
    lastFrameAt: number;
    maxFrameGapMs: number;
    closed: Promise<{ code: number; reason: string }>;
  }
  const open = async (): Promise<Client> => {
    const ws = new WebSocket(`${t.wsUrl}?token=${token}`, { perMessageDeflate: false });
    const c: Client = {
      ws,
      messages: [],
      listeners: new Set(),
      frames: 0,
      lastFrameAt: 0,
      maxFrameGapMs: 0,
      closed: new Promise((resolve) =>
        ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })),
      ),
    };
    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        c.messages.push(JSON.parse(String(data)) as ServerMessage);
        for (const l of [...c.listeners]) l();
        return;
      }
      const frame = decodeFrame(new Uint8Array(data as Buffer));
      if (frame.kind !== FrameKind.trades) return;
      const now = Date.now();
      if (c.lastFrameAt) c.maxFrameGapMs = Math.max(c.maxFrameGapMs, now - c.lastFrameAt);
      c.lastFrameAt = now;
      c.frames++;
    });
    ws.on('error', () => {});
    await until(() => c.messages.some((m) => m.type === 'hello'), 'hello');
    return c;
  };
  /** A client that subscribed to every ticker and counts its trade frames. */
  const watcher = async () => {
    const c = await open();
    c.ws.send(JSON.stringify({ type: 'sub', channel: 'trades', tickers: t.server.market.tickerList }));
    await until(() => c.messages.some((m) => m.type === 'subscribed'), 'subscribed');
    await until(() => c.frames > 0, 'first trades', 15_000);
    return c;
  };
  /** The first text message from index `from` on that matches, as soon as it arrives. */
  const next = (c: Client, from: number, match: (m: ServerMessage) => boolean, ms = 10_000) =>
    new Promise<ServerMessage>((resolve, reject) => {
      const check = () => {
        const m = c.messages.slice(from).find(match);
        if (m) {
          done();
          resolve(m);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching message within ${ms} ms`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        c.listeners.delete(check);
      };
      c.listeners.add(check);
      check();
    });
  const pingRtt = async (c: Client) => {
    const id = Math.floor(Math.random() * 1e9);
    const start = performance.now();
    c.ws.send(JSON.stringify({ type: 'ping', id }));
    await next(c, 0, (m) => m.type === 'pong' && m.id === id);
    return performance.now() - start;
  };

  it('answers fuzzed control messages one by one while a well-behaved client keeps its ticks', {
    timeout: 40_000,
  }, async () => {
    const good = await watcher();
    const framesBefore = good.frames;
    let n = 0;
    const samples = fc.sample(wireMessage, { numRuns: 2000 });
    // Several sockets, each under the rate limit, so none of them is rate-limited.
    const perSocket = CONTROL_RATE.burst - 20;
    for (let i = 0; i < samples.length; i += perSocket) {
      let c = await open();
      for (const [payload, isBinary] of samples.slice(i, i + perSocket)) {
        if (typeof payload !== 'string' && !isBinary) continue; // invalid UTF-8 text: the ws client refuses to send it
        n++;
        const seen = c.messages.length;
        c.ws.send(payload, { binary: isBinary });
        const outcome = await Promise.race([next(c, seen, (m) => ANSWERS.has(m.type)), c.closed]);
        if ('code' in outcome && !('type' in outcome)) {
          // Only a (valid-looking) token renewal may close: an invalid token is 4401.
          expect(outcome.code, `closed after ${String(payload).slice(0, 100)}`).toBe(4401);
          c = await open();
          continue;
        }
        const answer = outcome as ServerMessage;
        if (answer.type === 'error') {
          expect(ERROR_CODES.has(answer.code), answer.code).toBe(true);
          expect(answer.code).not.toBe('rate_limited');
          expect(answer.message.length).toBeGreaterThan(0);
        }
      }
      c.ws.close();
    }
    console.log('fuzz-count', 'ws control json (real server)', n);
    expect(n).toBeGreaterThan(1500);
    expect(good.frames).toBeGreaterThan(framesBefore);
    expect(good.ws.readyState).toBe(WebSocket.OPEN);
    // Generous: the simulator trades every ticker many times a second.
    expect(good.maxFrameGapMs).toBeLessThan(5_000);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    good.ws.close();
  });

  it('closes a /ws message over the size limit with 1009 and a reason; past twice the limit uWS drops it (1006)', async () => {
    const big = await open();
    big.ws.send(JSON.stringify({ type: 'ping', id: 1, pad: 'x'.repeat(MAX_CONTROL_BYTES) }));
    const closed = await big.closed;
    expect(closed.code).toBe(1009);
    expect(closed.reason).toMatch(/too big: \d+ bytes, the limit is 16384/);
    const huge = await open();
    huge.ws.send('x'.repeat(MAX_CONTROL_BYTES * 4));
    expect((await huge.closed).code).toBe(1006);
    console.log('fuzz-count', 'oversized ws frames', 2);
    const ok = await open();
    expect(await pingRtt(ok)).toBeLessThan(5_000);
    ok.ws.close();
  });

  it('rate-limits a socket flooding control messages (rate_limited, then 4429) while others keep their ticks and latency', {
    timeout: 30_000,
  }, async () => {
    const good = await watcher();
    const other = await open();
    const quietRtt = await pingRtt(other);
    const flood = await open();
    const framesBefore = good.frames;
    const floodStart = Date.now();
    // Thousands of messages in a burst, mixing cheap pings and replay requests (database reads).
    let sent = 0;
    const all = t.server.market.tickerList;
    const since = Object.fromEntries(all.map((x) => [x, 1]));
    while (flood.ws.readyState === WebSocket.OPEN && sent < 5_000) {
      flood.ws.send(
        sent % 2 === 0
          ? JSON.stringify({ type: 'ping', id: sent })
          : JSON.stringify({ type: 'sub', channel: 'trades', tickers: all, since }),
      );
      sent++;
    }
    const rtts: number[] = [];
    const closed = flood.closed.then((c) => c);
    // Paced well under the rate limit (the probe must not be limited itself).
    while (Date.now() - floodStart < 3_000) {
      rtts.push(await pingRtt(other));
      await new Promise((r) => setTimeout(r, 50));
    }
    const { code, reason } = await closed;
    expect(code).toBe(4429);
    expect(reason).toMatch(/rate limit/);
    expect(flood.messages.filter((m) => m.type === 'error' && m.code === 'rate_limited')).toHaveLength(1);
    expect(flood.messages.filter((m) => m.type === 'pong').length).toBeLessThanOrEqual(CONTROL_RATE.burst);
    const worst = Math.max(...rtts);
    console.log('fuzz-count', 'ws flood messages', sent);
    console.log(
      'flood ws control:',
      `${sent} messages sent, closed ${code};`,
      `other socket ping rtt quiet ${quietRtt.toFixed(1)} ms, during flood worst ${worst.toFixed(1)} ms of ${rtts.length}`,
    );
    expect(worst).toBeLessThan(2_000);
    await until(() => good.frames > framesBefore + 5, 'ticks after the flood', 10_000);
    expect(good.ws.readyState).toBe(WebSocket.OPEN);
    good.ws.close();
    other.ws.close();
  });
});
