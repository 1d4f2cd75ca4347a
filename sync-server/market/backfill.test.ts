import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NL, ProfitDllError } from '../../native/errors.ts';
import type { RawEvent } from '../../native/records.ts';
import { createLogger } from '../log.ts';
import { type Instrument, instrumentFor } from '../shared/instruments.ts';
import { B3_UTC_OFFSET_MS, type BackfillStatus, b3Day, type Trade } from '../shared/market.ts';
import { sampleTrade } from '../testing/market.ts';
import { Backfill, type BackfillDeps, mergeFill, sessionOpen } from './backfill.ts';
import { TradeCapture } from './capture.ts';
import type { DeadLetter } from './feed.ts';
import { chunkWindow, dayChunks, HistoryFill, historyChunks, tradeKey } from './historyFill.ts';

// The backfill's logic without a DLL: chunking, the merge of history and live trades (a
// property over any overlap and order), one ticker's requests through refusals, silence and late
// answers, and the backfill's order of steps (held, stored, fanned out, live).

type TradeEvent = Extract<RawEvent, { kind: 'trade' }>;
const PETR4 = instrumentFor('PETR4', 'B') as Instrument;
const DAY_MS = 86_400_000;
/** A Wednesday, 14:00 in Brasília. */
const NOW = Date.UTC(2026, 11, 2, 17, 0, 0);
const DAY = b3Day(NOW);
const OPEN = sessionOpen(DAY, 'B');

/** A time as the DLL prints it: DD/MM/YYYY HH:MM:SS.ZZZ in Brasília. */
function dllDate(ms: number): string {
  const d = new Date(ms + B3_UTC_OFFSET_MS);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCDate())}/${p(d.getUTCMonth() + 1)}/${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}`;
}
/** Trade number n of the day prints at OPEN + n seconds. */
const timeOf = (n: number) => OPEN + n * 1_000;
const raw = (n: number, patch: Partial<TradeEvent> = {}): TradeEvent => ({
  kind: 'trade',
  ticker: 'PETR4',
  exchange: 'B',
  feed: 0,
  truncated: false,
  capturedAtNs: NOW * 1e6,
  history: true,
  date: dllDate(timeOf(n)),
  tradeNumber: n,
  price: 38.5,
  volume: 3_850,
  qty: 100,
  buyAgent: 1,
  sellAgent: 2,
  tradeType: 2,
  isEdit: false,
  ...patch,
});
const progress = (p: number): Extract<RawEvent, { kind: 'progress' }> => ({
  kind: 'progress',
  ticker: 'PETR4',
  exchange: 'B',
  feed: 0,
  truncated: false,
  capturedAtNs: 0,
  progress: p,
});
const trade = (n: number): Trade => sampleTrade(0, { tradeNumber: n, time: timeOf(n) });
const numbers = (ts: readonly Trade[]) => ts.map((t) => t.tradeNumber);

describe('chunks', () => {
  it('property: cover [from, to] in whole seconds, consecutive, none longer than the limit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4e12 }),
        fc.integer({ min: 0, max: 20 * DAY_MS }),
        fc.constantFrom(DAY_MS, 5 * DAY_MS, 3_600_000),
        (from, span, max) => {
          const chunks = historyChunks(from, from + span, max);
          expect(chunks[0]?.from).toBe(Math.floor(from / 1000) * 1000);
          expect(chunks.at(-1)?.to).toBe(Math.floor((from + span) / 1000) * 1000);
          chunks.forEach((c, i) => {
            expect(c.to - c.from).toBeLessThanOrEqual(max);
            expect(c.from % 1000).toBe(0);
            if (i > 0) expect(c.from).toBe((chunks[i - 1]?.to as number) + 1000);
          });
        },
      ),
    );
  });

  it('gives a day per B3 day, 00:00:00 to 23:59:59 Brasília, its window the whole last second', () => {
    const [c] = dayChunks(DAY, DAY);
    expect(dllDate(c?.from as number)).toBe('02/12/2026 00:00:00.000');
    expect(dllDate(c?.to as number)).toBe('02/12/2026 23:59:59.000');
    expect(chunkWindow(c as never).to).toBe((c?.to as number) + 999);
    expect(dayChunks(DAY, DAY + 2)).toHaveLength(3);
    expect(b3Day(dayChunks(DAY, DAY)[0]?.to as number)).toBe(DAY);
  });
});

describe('mergeFill', () => {
  /**
   * A day of trades 1..n; the store holds 1..stored; the history answers a..b (any order, some
   * twice); live trades c..n arrive during the fill (c may be inside the history, some twice).
   */
  const scenario = fc.integer({ min: 1, max: 60 }).chain((n) =>
    fc.record({
      n: fc.constant(n),
      stored: fc.integer({ min: 0, max: n }),
      a: fc.integer({ min: 1, max: n }),
      b: fc.integer({ min: 0, max: n }),
      c: fc.integer({ min: 1, max: n + 1 }),
      shuffle: fc.array(fc.integer(), { maxLength: 60 }),
      twiceHistory: fc.array(fc.integer({ min: 1, max: n }), { maxLength: 5 }),
      twiceLive: fc.array(fc.integer({ min: 1, max: n }), { maxLength: 5 }),
      head: fc.integer({ min: 0, max: 1_000 }),
    }),
  );

  it('property: whatever the overlap and order, each trade once, seqs contiguous from the head, nothing lost', () => {
    fc.assert(
      fc.property(scenario, ({ n, stored, a, b, c, shuffle, twiceHistory, twiceLive, head }) => {
        const range = (lo: number, hi: number) =>
          Array.from({ length: Math.max(0, hi - lo + 1) }, (_, i) => lo + i);
        const history = [...range(a, b), ...twiceHistory.filter((x) => x >= a && x <= b)].map(trade);
        // The DLL's order is not trusted: any permutation.
        for (let i = 0; i < shuffle.length && history.length > 1; i++) {
          const j = Math.abs(shuffle[i] as number) % history.length;
          [history[0], history[j]] = [history[j] as Trade, history[0] as Trade];
        }
        const held = [...range(c, n), ...twiceLive.filter((x) => x >= c)]
          .map(trade)
          .sort((x, y) => x.time - y.time);
        const storedKeys = new Set(range(1, stored).map((x) => tradeKey(timeOf(x), x)));
        const merged = mergeFill(head, history, held, storedKeys);

        expect(merged.map((t) => t.seq)).toEqual(merged.map((_, i) => head + 1 + i));
        const all = [...range(1, stored), ...numbers(merged)];
        expect(new Set(all).size).toBe(all.length);
        // Every trade the history or the live feed gave is stored or added.
        const given = new Set([...range(a, b), ...range(c, n)]);
        for (const x of given) expect(all).toContain(x);
        // The history's part first, in the exchange's order; then live in the order it came.
        const fromHistory = merged.filter(
          (t) => t.tradeNumber >= a && t.tradeNumber <= b && t.tradeNumber > stored,
        );
        expect(numbers(merged.slice(0, fromHistory.length))).toEqual(
          numbers(fromHistory).sort((x, y) => x - y),
        );
        // No hole: a history from just after the store, and live from no later than its end.
        if (a <= stored + 1 && c <= Math.max(b, stored) + 1)
          expect([...all].sort((x, y) => x - y)).toEqual(range(1, n));
      }),
      { numRuns: 500 },
    );
  });
});

describe('HistoryFill', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(NOW);
  });
  afterEach(() => vi.useRealTimers());

  const capture = new TradeCapture(new Set(['PETR4:B']), () => NOW);
  const OPTS = { stallMs: 1_000, attempts: 3, backoffMs: 100, maxBackoffMs: 1_000 };
  function fillOf(chunks = [{ from: OPEN, to: NOW }], ask: (from: Date, to: Date) => void = () => {}) {
    const asks: string[] = [];
    const letters: DeadLetter[] = [];
    const counts: string[] = [];
    const fill = new HistoryFill(
      PETR4,
      chunks,
      {
        ask: (from, to) => {
          asks.push(`${dllDate(from.getTime())}-${dllDate(to.getTime())}`);
          ask(from, to);
        },
        check: (r, w) => capture.check(r, w),
        deadLetter: (l) => letters.push(l),
        count: (o) => counts.push(o),
      },
      OPTS,
    );
    return { fill, asks, letters, counts };
  }

  it('keeps each valid trade once, letters bad ones with their reasons, and ends at the progress of 100', async () => {
    const { fill, letters, counts } = fillOf();
    fill.start();
    fill.trade(raw(1));
    fill.trade(raw(2));
    fill.trade(raw(2)); // the DLL sent it twice
    fill.trade(raw(3, { price: 38.505 }));
    fill.trade(raw(4, { date: dllDate(NOW + 5_000) })); // after the range asked
    fill.progress(50, progress(50));
    expect(fill.percent).toBe(50);
    fill.progress(120, progress(120));
    fill.progress(100, progress(100));
    const result = await fill.done;
    expect(numbers(result.trades)).toEqual([1, 2]);
    expect(result.failures).toEqual([]);
    expect(fill.percent).toBe(100);
    expect(letters.map((l) => [l.source, l.reason])).toEqual([
      ['profitdll.historyTrade', 'price_off_tick_grid'],
      ['profitdll.historyTrade', 'time_out_of_range'],
      ['profitdll.historyTrade', 'bad_progress'],
    ]);
    expect(counts).toContain('duplicate');
    // An answer no request waits for is lettered, not taken.
    fill.progress(100, progress(100));
    expect(letters.at(-1)?.reason).toBe('unrequested_history');
  });

  it('asks a refused chunk again after a growing pause, and gives up at once on a refusal that cannot pass', async () => {
    let refusals = 2;
    const { fill, asks } = fillOf(undefined, () => {
      if (refusals-- > 0) throw new ProfitDllError('GetHistoryTrades', NL.WAITING_SERVER);
    });
    fill.start();
    expect(asks).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(99);
    expect(asks).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1); // 100 ms, then 200
    expect(asks).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(200);
    expect(asks).toHaveLength(3);
    fill.progress(100, progress(100));
    expect((await fill.done).failures).toEqual([]);

    const bad = fillOf(undefined, () => {
      throw new ProfitDllError('GetHistoryTrades', NL.INVALID_TICKER);
    });
    bad.fill.start();
    const { failures } = await bad.fill.done;
    expect(bad.asks).toHaveLength(1);
    expect(failures).toMatchObject([{ attempts: 1, code: 'NL_INVALID_TICKER' }]);
  });

  it('takes a silent request for lost, asks again, and reports the chunk failed after its attempts', async () => {
    const { fill, asks, counts } = fillOf([
      { from: OPEN, to: OPEN + 3_600_000 },
      { from: OPEN + 3_601_000, to: NOW },
    ]);
    fill.start();
    fill.trade(raw(1));
    await vi.advanceTimersByTimeAsync(999);
    fill.trade(raw(2)); // an answer that goes quiet later
    await vi.advanceTimersByTimeAsync(999);
    expect(asks).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1); // 1 s quiet: lost; asked again 100 ms on
    await vi.advanceTimersByTimeAsync(100);
    expect(asks).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1_000 + 200);
    expect(asks).toHaveLength(3);
    // The third goes quiet too: the first chunk fails, the second is asked.
    await vi.advanceTimersByTimeAsync(1_000);
    expect(counts.filter((c) => c === 'stalled')).toHaveLength(3);
    expect(asks).toHaveLength(4);
    fill.trade(raw(3_700));
    fill.progress(100, progress(100));
    const result = await fill.done;
    expect(result.failures).toMatchObject([
      { attempts: 3, reason: 'no answer for 1000 ms', chunk: { from: OPEN } },
    ]);
    // What the failed chunk did deliver is kept: valid trades, each once.
    expect(numbers(result.trades)).toEqual([1, 2, 3_700]);
  });

  it('takes an answer that comes after its request was given up for the next request, lettering its trades outside that range', async () => {
    const { fill, asks, letters } = fillOf([
      { from: OPEN, to: OPEN + 60_000 },
      { from: OPEN + 61_000, to: NOW },
    ]);
    fill.start();
    // The first chunk's three requests go quiet: it fails, and the second chunk is asked.
    await vi.advanceTimersByTimeAsync(1_000 + 100 + 1_000 + 200 + 1_000);
    expect(asks).toHaveLength(4);
    expect(fill.percent).toBe(50);
    fill.trade(raw(30)); // the first chunk's, late: outside the second's range
    fill.trade(raw(100));
    fill.progress(100, progress(100));
    const result = await fill.done;
    expect(result.failures).toMatchObject([{ attempts: 3, chunk: { from: OPEN } }]);
    expect(numbers(result.trades)).toEqual([100]);
    expect(letters).toMatchObject([{ reason: 'time_out_of_range', payload: { tradeNumber: 30 } }]);
  });
});

describe('Backfill', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(NOW);
  });
  afterEach(() => vi.useRealTimers());

  function backfillOf(opts: { stored?: Trade[]; last?: number; refuse?: number } = {}) {
    const steps: string[] = [];
    const statuses: BackfillStatus[] = [];
    const letters: DeadLetter[] = [];
    const out: Trade[] = [];
    const asks: { from: number; to: number }[] = [];
    let refuse = opts.refuse ?? 0;
    const capture = new TradeCapture(new Set(['PETR4:B']), () => NOW);
    capture.resumeFrom(new Map([['PETR4', 10]]));
    const deps: BackfillDeps = {
      connector: {
        historyTrades: (_t, _e, from, to) => {
          if (refuse-- > 0) throw new ProfitDllError('GetHistoryTrades', NL.INTERNAL_ERROR);
          asks.push({ from: from.getTime(), to: to.getTime() });
        },
        clock: () => NOW,
      },
      capture,
      stored: async (_t, from, to) =>
        (opts.stored ?? [])
          .filter((t) => t.time >= from && t.time <= to)
          .map((t) => ({ time: t.time, tradeNumber: t.tradeNumber })),
      lastTradeTime: async () => opts.last,
      write: (ts) => steps.push(`write ${numbers(ts)}`),
      flush: async () => {
        steps.push('flush');
      },
      sinks: {
        backfilled: (_i, ts) => {
          steps.push(`backfilled ${ts.map((t) => `${t.tradeNumber}@${t.seq}`)}`);
          out.push(...ts);
        },
        trades: (_i, ts) => {
          steps.push(`live ${ts.map((t) => `${t.tradeNumber}@${t.seq}`)}`);
          out.push(...ts);
        },
        backfill: (s) => statuses.push(s),
        deadLetter: (l) => letters.push(l),
      },
      log: createLogger('silent'),
      count: () => {},
      options: { stallMs: 1_000, attempts: 2, backoffMs: 100, statusMs: 0 },
    };
    const backfill = new Backfill(deps);
    const live = (n: number) => {
      const r = capture.check(raw(n));
      if (!r.ok) throw new Error(r.detail);
      if (backfill.holds('PETR4')) backfill.hold(r.trade);
      else out.push(...capture.number([r.trade]));
    };
    return { backfill, steps, statuses, letters, out, asks, live, capture };
  }

  it('holds live trades while it fills, stores the history first, then numbers the live ones after it without the repeats', async () => {
    const b = backfillOf();
    b.backfill.subscribed({ ticker: 'PETR4', exchange: 'B' });
    expect(b.backfill.holds('PETR4')).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(b.asks).toEqual([{ from: OPEN, to: NOW }]);
    b.live(4); // a live trade the history also holds
    b.live(5);
    for (const n of [3, 1, 2, 4]) b.backfill.historyTrade(raw(n));
    b.backfill.progress(progress(100));
    b.live(6); // while the history is being stored
    await vi.advanceTimersByTimeAsync(0);
    expect(b.backfill.holds('PETR4')).toBe(false);
    b.live(7);
    expect(b.steps).toEqual(['write 1,2,3,4', 'flush', 'backfilled 1@11,2@12,3@13,4@14', 'live 5@15,6@16']);
    expect(b.out.map((t) => t.seq)).toEqual([11, 12, 13, 14, 15, 16, 17]);
    expect(b.statuses.at(0)).toMatchObject({ state: 'filling', percent: 0, from: OPEN, to: NOW });
    expect(b.statuses.at(-1)).toMatchObject({ ticker: 'PETR4', state: 'live', percent: 100, trades: 4 });
    expect(b.letters).toEqual([]);
  });

  it('after a restart asks only from the last stored trade, and stores none of what is stored', async () => {
    const stored = [trade(100), trade(101)];
    const b = backfillOf({ stored, last: timeOf(101) });
    b.backfill.subscribed({ ticker: 'PETR4', exchange: 'B' });
    await vi.advanceTimersByTimeAsync(0);
    expect(b.asks).toEqual([{ from: timeOf(101), to: NOW }]);
    for (const n of [101, 102, 103]) b.backfill.historyTrade(raw(n));
    b.backfill.progress(progress(100));
    await vi.advanceTimersByTimeAsync(0);
    expect(numbers(b.out)).toEqual([102, 103]);
    expect(b.out.map((t) => t.seq)).toEqual([11, 12]);
  });

  it('reports a chunk it could not get (dead letter, status failed) and still goes live with what it holds', async () => {
    const b = backfillOf({ refuse: 5 });
    b.backfill.subscribed({ ticker: 'PETR4', exchange: 'B' });
    b.live(9);
    await vi.advanceTimersByTimeAsync(100);
    expect(b.backfill.holds('PETR4')).toBe(false);
    expect(b.out.map((t) => [t.tradeNumber, t.seq])).toEqual([[9, 11]]);
    expect(b.letters).toMatchObject([
      {
        source: 'profitdll.history',
        reason: 'history_failed',
        payload: { ticker: 'PETR4', attempts: 2, code: 'NL_INTERNAL_ERROR' },
      },
    ]);
    expect(b.statuses.at(-1)).toMatchObject({ state: 'failed', percent: 100 });
    expect(b.statuses.at(-1)?.reason).toMatch(/NL_INTERNAL_ERROR/);
  });

  it('on stop drops what it holds from then on: the next start asks the history that holds them', async () => {
    const b = backfillOf();
    b.backfill.subscribed({ ticker: 'PETR4', exchange: 'B' });
    await vi.advanceTimersByTimeAsync(0);
    b.live(1);
    b.backfill.stop();
    b.live(2);
    b.backfill.progress(progress(100));
    await vi.advanceTimersByTimeAsync(0);
    expect(b.out).toEqual([]);
    expect(b.steps).toEqual([]);
    expect(b.capture.lastSeq('PETR4')).toBe(10);
  });
});

describe('Backfill over several tickers', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(NOW);
  });
  afterEach(() => vi.useRealTimers());

  const TICKERS = ['PETR4', 'VALE3', 'ITUB4'];
  function several() {
    const asks: string[] = [];
    const statuses: BackfillStatus[] = [];
    const capture = new TradeCapture(new Set(TICKERS.map((x) => `${x}:B`)), () => NOW);
    const backfill = new Backfill({
      connector: { historyTrades: (ticker) => asks.push(ticker), clock: () => NOW },
      capture,
      stored: async () => [],
      lastTradeTime: async () => undefined,
      write: () => {},
      flush: async () => {},
      sinks: {
        backfilled: () => {},
        trades: () => {},
        backfill: (s) => statuses.push(s),
        deadLetter: () => {},
      },
      log: createLogger('silent'),
      count: () => {},
      options: { stallMs: 1_000, attempts: 2, backoffMs: 100, statusMs: 0 },
    });
    const end = (ticker: string) => backfill.progress({ ...progress(100), ticker });
    const state = (ticker: string) => statuses.filter((s) => s.ticker === ticker).at(-1)?.state;
    return { backfill, asks, end, state };
  }

  it('asks one ticker at a time (answers share the capture ring); one waiting is not silent, and goes on its turn', async () => {
    const { backfill, asks, end, state } = several();
    for (const ticker of TICKERS) backfill.subscribed({ ticker, exchange: 'B' });
    await vi.advanceTimersByTimeAsync(0);
    expect(asks).toEqual(['PETR4']);
    // Longer than the stall while PETR4 answers: the waiting tickers are neither asked nor failed.
    backfill.historyTrade({ ...raw(1), ticker: 'PETR4' });
    await vi.advanceTimersByTimeAsync(900);
    backfill.historyTrade({ ...raw(2), ticker: 'PETR4' });
    await vi.advanceTimersByTimeAsync(900);
    expect(asks).toEqual(['PETR4']);
    expect([state('VALE3'), state('ITUB4')]).toEqual(['filling', 'filling']);
    end('PETR4');
    await vi.advanceTimersByTimeAsync(0);
    expect(state('PETR4')).toBe('live');
    expect(asks).toEqual(['PETR4', 'VALE3']);
    end('VALE3');
    await vi.advanceTimersByTimeAsync(0);
    expect(asks).toEqual(['PETR4', 'VALE3', 'ITUB4']);
    // A silent turn fails after its attempts, and still hands the turn on (nothing left here).
    await vi.advanceTimersByTimeAsync(5_000);
    expect(state('ITUB4')).toBe('failed');
    expect(asks).toEqual(['PETR4', 'VALE3', 'ITUB4', 'ITUB4']);
  });

  it('on stop, a ticker still waiting its turn is never asked', async () => {
    const { backfill, asks, end } = several();
    for (const ticker of TICKERS) backfill.subscribed({ ticker, exchange: 'B' });
    await vi.advanceTimersByTimeAsync(0);
    backfill.stop();
    end('PETR4');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(asks).toEqual(['PETR4']);
  });
});
