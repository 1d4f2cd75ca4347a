import { describe, expect, it } from 'vitest';
import { FeedClient } from '../../app/market/feedClient.ts';
import { type Instrument, instrumentFor } from '../shared/instruments.ts';
import { encodeTrades, type ServerMessage, type Trade } from '../shared/market.ts';
import { petr4Market, sampleTrade } from '../testing/market.ts';
import { until } from '../testing/until.ts';
import type { CatchUp, TickHistory } from './service.ts';

// A client whose last seq is past the server's head: after a crash the server resumes numbering
// from its highest stored seq, while a client may have received live events past it (fan-out
// happens before the write). The server answers a `rewound` snapshot with its head, and the client
// takes the server's numbering from there instead of dropping the new events as repeats.

const PETR4 = instrumentFor('PETR4', 'B') as Instrument;
const trades = (from: number, to: number): Trade[] =>
  Array.from({ length: to - from + 1 }, (_, i) => sampleTrade(from + i));

/** A market over `history`, restarted with `head` as each ticker's stored head. */
function service(history: TickHistory, head = 0, historyReadMs?: number) {
  return petr4Market({ history, head: () => head, historyReadMs });
}

/** A database holding PETR4 1..head. */
const stored = (head: number): TickHistory => ({
  range: async (_t, from, to) => trades(from, Math.min(to, head)),
});

const summary = (c: CatchUp) => (c.kind === 'replay' ? { replay: [c.from, c.to] } : c);

describe('catch-up past the server head', () => {
  it('answers `rewound` with the ring head when the client is ahead of it', async () => {
    const m = service(stored(0), 0);
    m.trades(PETR4, trades(1, 50));
    const plan = await m.catchUp('PETR4', 80);
    expect(plan).toMatchObject({ kind: 'snapshot', reason: 'rewound', seq: 50, quote: { seq: 50 } });
    expect(summary(await m.catchUp('PETR4', 50))).toEqual({ replay: [51, 50] });
    expect(summary(await m.catchUp('PETR4', 40))).toEqual({ replay: [41, 50] });
  });

  it('before the first trade since start, compares with the stored head and replays from it', async () => {
    const m = service(stored(30), 30);
    // Restarted: nothing traded yet, so no quote; the head is the stored one.
    expect(await m.catchUp('PETR4', 40)).toEqual({
      kind: 'snapshot',
      reason: 'rewound',
      seq: 30,
      quote: undefined,
    });
    expect(summary(await m.catchUp('PETR4', 30))).toEqual({ replay: [31, 30] });
    expect(summary(await m.catchUp('PETR4', 25))).toEqual({ replay: [26, 30] });
    // The first new trade continues from the stored head; the old part still comes from storage.
    m.trades(PETR4, trades(31, 35));
    expect(summary(await m.catchUp('PETR4', 20))).toEqual({ replay: [21, 35] });
    expect(await m.catchUp('PETR4', 36)).toMatchObject({ reason: 'rewound', seq: 35 });
  });

  it("answers `rewound` when its trade at `since` is not the client's, even below its head", async () => {
    // Stored 1..30 before a crash; the client had seen up to 33 (never stored). The restarted
    // server numbered other trades 31..35 before the client came back: 33 exists, but is not its.
    const m = service(stored(30), 30);
    const restarted = (seq: number) => sampleTrade(seq, { tradeNumber: 1_000 + seq, time: 1_000 + seq });
    m.trades(PETR4, [31, 32, 33, 34, 35].map(restarted));
    const clients33 = { tradeNumber: 33, time: 33 };
    expect(await m.catchUp('PETR4', 33, clients33)).toMatchObject({
      kind: 'snapshot',
      reason: 'rewound',
      seq: 35,
    });
    // Its own trade at 33: a replay of what follows.
    expect(summary(await m.catchUp('PETR4', 33, { tradeNumber: 1_033, time: 1_033 }))).toEqual({
      replay: [34, 35],
    });
    // A client whose last trade was stored (30) is checked against the database and replayed.
    expect(summary(await m.catchUp('PETR4', 30, { tradeNumber: 30, time: 30 }))).toEqual({
      replay: [31, 35],
    });
    expect(await m.catchUp('PETR4', 30, { tradeNumber: 7, time: 7 })).toMatchObject({
      reason: 'rewound',
      seq: 35,
    });
    // Before the first trade since start, the stored trade at `since` is the one compared.
    const fresh = service(stored(30), 30);
    expect(summary(await fresh.catchUp('PETR4', 30, { tradeNumber: 30, time: 30 }))).toEqual({
      replay: [31, 30],
    });
    expect(summary(await fresh.catchUp('PETR4', 20, { tradeNumber: 20, time: 20 }))).toEqual({
      replay: [21, 30],
    });
    expect(await fresh.catchUp('PETR4', 20, { tradeNumber: 21, time: 20 })).toMatchObject({
      reason: 'rewound',
      seq: 30,
    });
  });

  it('names the gap when the stored history has a hole', async () => {
    const m = service({ range: async (_t, from, to) => trades(from, to).filter((t) => t.seq !== 12) }, 20);
    expect(await m.catchUp('PETR4', 10)).toMatchObject({
      kind: 'snapshot',
      reason: 'gap_too_large',
      seq: 20,
    });
  });

  it('answers a snapshot at once when the database fails or does not answer, and still replays from the ring', async () => {
    let calls = 0;
    const hung = service(
      {
        range: () => {
          calls++;
          return new Promise<Trade[]>(() => {}); // never settles
        },
      },
      30,
      50,
    );
    hung.trades(PETR4, trades(31, 40));
    const started = performance.now();
    expect(await hung.catchUp('PETR4', 10)).toMatchObject({
      kind: 'snapshot',
      reason: 'gap_too_large',
      seq: 40,
    });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(calls).toBe(1);
    // What the ring holds needs no database.
    expect(summary(await hung.catchUp('PETR4', 35))).toEqual({ replay: [36, 40] });
    expect(calls).toBe(1);
    const down = service({ range: () => Promise.reject(new Error('ECONNREFUSED')) }, 30);
    expect(await down.catchUp('PETR4', 10)).toMatchObject({
      kind: 'snapshot',
      reason: 'gap_too_large',
      seq: 30,
    });
  });
});

describe('FeedClient after `rewound`', () => {
  const sockets: FakeSocket[] = [];
  class FakeSocket {
    readyState = 1;
    binaryType = '';
    sent: string[] = [];
    onmessage: ((ev: { data: unknown }) => void) | undefined;
    onclose: ((ev: { code: number }) => void) | undefined;
    constructor(readonly url: string) {
      sockets.push(this);
    }
    send(data: string) {
      this.sent.push(data);
    }
    close() {}
    deliver(m: ServerMessage | Uint8Array) {
      const data = m instanceof Uint8Array ? m.slice().buffer : JSON.stringify(m);
      this.onmessage?.({ data });
    }
  }
  /** A started client on a fake socket, past its hello and first snapshot. */
  const connected = async (
    tickers: string[],
    opts: Partial<ConstructorParameters<typeof FeedClient>[0]> = {},
  ) => {
    sockets.length = 0;
    const client = new FeedClient({
      url: 'ws://127.0.0.1:1/ws',
      credentials: async () => ({ token: 'token' }),
      WebSocket: FakeSocket as unknown as typeof WebSocket,
      ...opts,
    });
    client.start();
    const ws = await until(() => sockets[0], 'the socket, once the credentials came');
    ws.deliver({
      type: 'hello',
      protocol: 1,
      user: { username: 'u', role: 'viewer' },
      tickers,
      instruments: [],
    });
    ws.deliver({ type: 'snapshot', quotes: [], reason: 'subscribe' });
    return { client, ws };
  };

  it('resets the ticker to the server head and applies the server events from there', async () => {
    const applied: number[] = [];
    const reasons: string[] = [];
    const { client, ws } = await connected(['PETR4'], {
      onTrades: (_t, ts) => applied.push(...ts.map((x) => x.seq)),
      onSnapshot: (_q, reason, tickers) => reasons.push(`${reason} ${tickers.join(',')}`),
    });
    ws.deliver(encodeTrades('PETR4', trades(1, 60)));
    expect(client.seq('PETR4')).toBe(60);
    // A gap: it asks for what follows 60, naming the trade it holds there.
    ws.deliver(encodeTrades('PETR4', trades(62, 62)));
    expect(JSON.parse(ws.sent.at(-1) as string)).toEqual({
      type: 'sub',
      channel: 'trades',
      tickers: ['PETR4'],
      since: { PETR4: 60 },
      sinceTrade: { PETR4: { tradeNumber: 60, time: 60 } },
    });
    // The server crashed having stored up to 30 and numbered new events 31.. after its restart.
    ws.deliver({ type: 'snapshot', quotes: [], reason: 'rewound', seqs: { PETR4: 30 } });
    expect(client.seq('PETR4')).toBe(30);
    ws.deliver(encodeTrades('PETR4', trades(31, 33)));
    expect(applied.slice(-3)).toEqual([31, 32, 33]);
    expect(client.seq('PETR4')).toBe(33);
    // The tickers a snapshot restarts come from its `seqs` too, not only from its quotes.
    expect(reasons).toEqual(['subscribe ', 'rewound PETR4']);
    expect(client.gapsDetected).toBe(1);
    // A quote names its last trade too, so after a snapshot the next `since` is checked as well.
    const quote = { ticker: 'PETR4', exchange: 'B', seq: 70, last: 38.5, open: 38.5, high: 38.5, low: 38.5 };
    ws.deliver({
      type: 'snapshot',
      quotes: [{ ...quote, volume: 100, trades: 1, time: 7_070, tradeNumber: 7_070 }],
      reason: 'conflated',
    });
    ws.deliver(encodeTrades('PETR4', trades(72, 72)));
    expect(JSON.parse(ws.sent.at(-1) as string)).toMatchObject({
      since: { PETR4: 70 },
      sinceTrade: { PETR4: { tradeNumber: 7_070, time: 7_070 } },
    });
    client.stop();
  });

  it('subscribes again without `since` when the server could not replay', async () => {
    const { client, ws } = await connected(['PETR4', 'VALE3']);
    ws.deliver(encodeTrades('PETR4', trades(1, 20)));
    ws.deliver(encodeTrades('PETR4', trades(25, 25))); // a gap: a catch-up from 20 is asked for
    expect(JSON.parse(ws.sent.at(-1) as string)).toMatchObject({ since: { PETR4: 20 } });
    ws.deliver({ type: 'error', code: 'replay_failed', message: 'Could not replay' });
    expect(JSON.parse(ws.sent.at(-1) as string)).toEqual({
      type: 'sub',
      channel: 'trades',
      tickers: ['PETR4', 'VALE3'],
    });
    // Other errors are the server's answer to one message, not a reason to subscribe again.
    const sent = ws.sent.length;
    ws.deliver({ type: 'error', code: 'rate_limited', message: 'slow down' });
    expect(ws.sent.length).toBe(sent);
    client.stop();
  });
});
