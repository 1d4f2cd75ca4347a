import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { type Instrument, instrumentFor } from '../shared/instruments.ts';
import { decodeFrame, FrameKind, type ServerMessage, type Trade } from '../shared/market.ts';
import { petr4Market, sampleTrade } from '../testing/market.ts';
import { backends, login, startTestServer, type TestServer } from '../testing/server.ts';
import { until } from '../testing/until.ts';
import { type CatchUp, HISTORY_READ_MS } from './service.ts';

// A catch-up that needs the database while the ticker trades: the ring evicts its oldest trades
// during the read, the writer stores with a lag. The answer must still be every trade after
// `since` up to the live edge, once each, in order.

const PETR4 = instrumentFor('PETR4', 'B') as Instrument;
const trade = (seq: number) => sampleTrade(seq, { tradeNumber: 1_000 + seq });

const seqsOf = (c: CatchUp) =>
  c.kind === 'replay'
    ? c.frames.flatMap((f) => {
        const frame = decodeFrame(f);
        return frame.kind === FrameKind.trades ? frame.trades.map((t) => t.tradeNumber - 1_000) : [];
      })
    : [];

/** Runs the event loop's pending work: a settled read carries the catch-up to its next step. */
const settle = () => new Promise((r) => setImmediate(r));

describe('catch-up from the database during trading (model)', () => {
  beforeEach(() => {
    // The read bound is a timer and a deadline on the clock: both advance only when told.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const RING = 10;
  const step = fc.oneof(
    // A drain's batch, never more than the ring holds (a ring is at least 10,000, a drain 8,192).
    fc.record({ push: fc.integer({ min: 1, max: RING }) }),
    fc.record({ store: fc.integer({ min: 1, max: 15 }) }),
    fc.record({ read: fc.constantFrom('ok', 'ok', 'ok', 'fails', 'hangs') }),
  );

  it('property: replays exactly since+1..head, or names the gap only when a read fails, hangs or the gap is over maxReplay', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          stored: fc.integer({ min: 0, max: 30 }), // stored before a restart; the ring starts empty
          traded: fc.integer({ min: 0, max: 40 }), // since the restart, before the catch-up
          lag: fc.integer({ min: 0, max: 40 }), // of those, how many the writer has not stored yet
          back: fc.integer({ min: 0, max: 70 }), // how far behind the client is
          checked: fc.boolean(), // whether it names its trade at `since`
          maxReplay: fc.integer({ min: 0, max: 80 }),
          steps: fc.array(step, { maxLength: 14 }),
        }),
        async ({ stored, traded, lag, back, checked, maxReplay, steps }) => {
          // The database: what the writer stored, in order; it never lags behind what the ring
          // evicted (otherwise the trades are nowhere, and a gap is the right answer).
          const db: Trade[] = Array.from({ length: stored }, (_, i) => trade(i + 1));
          let head = stored;
          const storeUpTo = (seq: number) => {
            while (db.length < Math.min(seq, head)) db.push(trade(db.length + 1));
          };
          const reads: {
            from: number;
            to: number;
            resolve: (t: Trade[]) => void;
            reject: (e: Error) => void;
          }[] = [];
          const m = petr4Market({
            ringCapacity: RING,
            maxReplay,
            head: () => head,
            history: {
              range: (_t, from, to) =>
                new Promise<Trade[]>((resolve, reject) => reads.push({ from, to, resolve, reject })),
            },
          });
          const push = (n: number) => {
            storeUpTo(head + n - RING);
            m.trades(
              PETR4,
              Array.from({ length: n }, (_, i) => trade(head + i + 1)),
            );
            head += n;
          };
          for (let left = traded; left > 0; left -= RING) push(Math.min(left, RING));
          storeUpTo(head - lag);

          const after = Math.max(0, head - back);
          const seen = checked && after > 0 ? { tradeNumber: 1_000 + after, time: after } : undefined;
          const headAtAsk = head;
          // The ring holds the trade at `since` too when the client names it, and the trades after it.
          const first = seen ? after : after + 1;
          const ringHeld = traded > 0 && first >= head - Math.min(traded, RING) + 1;
          let failed = false;
          let answer: { plan: CatchUp; head: number } | undefined;
          void m.catchUp('PETR4', after, seen).then((plan) => {
            answer = { plan, head };
          });
          const readOne = (how: 'ok' | 'fails' | 'hangs') => {
            const r = reads.shift();
            if (!r) return;
            if (how === 'ok') r.resolve(db.filter((t) => t.seq >= r.from && t.seq <= r.to));
            else if (how === 'fails') r.reject(new Error('ECONNRESET'));
            else vi.advanceTimersByTime(HISTORY_READ_MS);
            if (how !== 'ok') failed = true;
          };
          await settle();
          for (const s of steps) {
            if (answer) break;
            if ('push' in s) push(s.push);
            else if ('store' in s) storeUpTo(db.length + s.store);
            else readOne(s.read);
            await settle();
          }
          // The market goes quiet; every read left answers.
          for (let i = 0; !answer && i < 100; i++) {
            readOne('ok');
            await settle();
          }
          if (!answer) throw new Error('the catch-up never answered');

          const gap = !ringHeld && (headAtAsk - after > maxReplay || failed);
          if (gap) {
            expect(answer.plan).toMatchObject({
              kind: 'snapshot',
              reason: 'gap_too_large',
              seq: answer.head,
            });
          } else {
            expect(answer.plan).toMatchObject({ kind: 'replay', from: after + 1, to: answer.head });
            expect(seqsOf(answer.plan)).toEqual(
              Array.from({ length: answer.head - after }, (_, i) => after + 1 + i),
            );
          }
        },
      ),
      { numRuns: 1_000 },
    );
  });
});

describe.each(backends())('catch-up from the database on a busy ticker, on %s', (backend) => {
  let t: TestServer;
  let token: string;
  const RATE = 1_500; // trades per second per ticker
  beforeAll(async () => {
    t = await startTestServer(backend, { TAPE_SIM_RATE: String(RATE), TAPE_TICKERS: 'PETR4:B,VALE3:B' });
    token = await login(t.url);
    await until(() => t.server.feed.status.connected, 'connector connected');
  });
  afterAll(() => t?.close());

  /** A raw /ws socket: the seqs of its PETR4 trade frames and its control messages, in order. */
  const socket = async () => {
    const ws = new WebSocket(`${t.wsUrl}?token=${token}`);
    const seqs: number[] = [];
    const messages: ServerMessage[] = [];
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return void messages.push(JSON.parse(String(data)));
      const f = decodeFrame(new Uint8Array(data as Buffer));
      if (f.kind === FrameKind.trades && f.ticker === 'PETR4') seqs.push(...f.trades.map((x) => x.seq));
    });
    await until(() => messages.some((m) => m.type === 'hello'), 'hello');
    return { ws, seqs, messages };
  };

  it('replays every trade missed, further back than the ring, while 1,500 trades/s arrive during the read', async () => {
    const market = t.server.market;
    // Behind by more than the ring holds (10,000), well within TAPE_MAX_REPLAY (100,000).
    await until(() => market.lastSeq('PETR4') > 1_000, 'trading');
    const since = market.lastSeq('PETR4');
    await until(() => market.lastSeq('PETR4') > since + 16_000, 'the ring moving past the client', 30_000);
    const { ws, seqs, messages } = await socket();
    const asked = { seq: market.lastSeq('PETR4'), at: performance.now() };
    ws.send(JSON.stringify({ type: 'sub', channel: 'trades', tickers: ['PETR4'], since: { PETR4: since } }));
    const answer = await until(
      () => messages.find((m) => m.type === 'replay' || m.type === 'snapshot' || m.type === 'error'),
      'the catch-up answer',
      20_000,
    );
    expect(answer).toMatchObject({ type: 'replay', ticker: 'PETR4', from: since + 1 });
    // The replay ends at the head when the server answered: the ring moved on during the
    // catch-up (being full, it evicts on every trade)...
    const { to } = answer as { to: number };
    expect(to).toBeGreaterThan(asked.seq);
    await until(
      () => (seqs.at(-1) ?? 0) > to + 500 && performance.now() - asked.at > 1_000,
      'live after the replay, a second after asking',
      20_000,
    );
    // ...at over 1,000 trades/s, measured over the second or more around it.
    const rate = ((market.lastSeq('PETR4') - asked.seq) * 1_000) / (performance.now() - asked.at);
    expect(rate).toBeGreaterThan(1_000);
    ws.close();
    // Complete, contiguous and without a duplicate, from the replay into live.
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => since + 1 + i));
    expect(messages.filter((m) => m.type === 'snapshot' || m.type === 'error')).toEqual([]);
  }, 90_000);
});
