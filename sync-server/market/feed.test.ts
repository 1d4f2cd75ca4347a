import { afterEach, describe, expect, it } from 'vitest';
import type { RawEvent } from '../../native/records.ts';
import type { Ticker } from '../config.ts';
import { createLogger } from '../log.ts';
import { createMetrics } from '../metrics.ts';
import type { Instrument } from '../shared/instruments.ts';
import type { ConnectorStatus, DayStats, Trade } from '../shared/market.ts';
import { b3Now } from '../testing/market.ts';
import { until } from '../testing/until.ts';
import type { RawPriceBook } from './book.ts';
import { type DeadLetter, type FeedSinks, type MarketConnector, MarketFeed } from './feed.ts';

// MarketFeed against a scripted connector behind its MarketConnector port: the test decides
// what each drain returns and how many events the ring has dropped.

type EventOf<K extends RawEvent['kind']> = Extract<RawEvent, { kind: K }>;

const asset = { exchange: 'B', feed: 0, truncated: false, capturedAtNs: Date.now() * 1e6 };
const rawTrade = (
  ticker: string,
  tradeNumber: number,
  patch: Partial<EventOf<'trade'>> = {},
): EventOf<'trade'> => ({
  ...asset,
  kind: 'trade',
  ticker,
  history: false,
  date: b3Now(),
  tradeNumber,
  price: 38.5,
  volume: 3_850,
  qty: 100,
  buyAgent: 1,
  sellAgent: 2,
  tradeType: 1,
  isEdit: false,
  ...patch,
});
const state = (connType: number, result: number): RawEvent => ({
  kind: 'state',
  connType,
  result,
  capturedAtNs: 0,
});
/** Logged in, market data connected, activation valid (API.md). */
const CONNECTED = [state(0, 0), state(2, 4), state(3, 0)];

/** The ring as the test fills it; `drains` counts drain() calls. */
class ScriptedConnector implements MarketConnector {
  private readonly queue: RawEvent[] = [];
  private waiting: ((ready: boolean) => void) | undefined;
  readonly calls: string[] = [];
  drains = 0;
  droppedNow = 0n;
  /** What the DLL still delivers while Finalize runs: in the ring after finalize(), unannounced. */
  deliveredAtFinalize: RawEvent[] = [];
  push(...events: RawEvent[]) {
    this.queue.push(...events);
    this.wake();
  }
  login(_key: string, _user: string, _password: string, opts?: { routing?: boolean }) {
    this.calls.push(`login routing=${opts?.routing}`);
  }
  subscribeTicker(ticker: string) {
    this.calls.push(`subscribeTicker ${ticker}`);
  }
  subscribePriceBook(ticker: string) {
    this.calls.push(`subscribePriceBook ${ticker}`);
  }
  unsubscribePriceBook(ticker: string) {
    this.calls.push(`unsubscribePriceBook ${ticker}`);
  }
  /** What GetLastDailyClose answers per ticker: a number, none, or a failure. */
  closes = new Map<string, number | Error>();
  lastDailyClose(ticker: string) {
    const c = this.closes.get(ticker);
    if (c instanceof Error) throw c;
    return c;
  }
  /** GetHistoryTrades as asked; the test pushes the answer. */
  readonly historyAsks: string[] = [];
  historyTrades(ticker: string, _exchange: string, from: Date, to: Date) {
    this.historyAsks.push(`${ticker} ${from.toISOString()} ${to.toISOString()}`);
  }
  clock() {
    return Date.now();
  }
  drain(max = Number.POSITIVE_INFINITY): RawEvent[] {
    this.drains++;
    return this.queue.splice(0, max);
  }
  waitForEvents(timeoutMs: number): Promise<boolean> {
    if (this.queue.length > 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wake(), timeoutMs);
      this.waiting = (ready) => {
        clearTimeout(timer);
        resolve(ready);
      };
    });
  }
  wake() {
    const w = this.waiting;
    this.waiting = undefined;
    w?.(this.queue.length > 0);
  }
  dropped() {
    return this.droppedNow;
  }
  finalize() {
    this.calls.push('finalize');
    this.queue.push(...this.deliveredAtFinalize);
  }
}

/** What the feed handed on, in order. */
class Recorder implements FeedSinks {
  readonly batches: { ticker: string; seqs: number[]; tradeNumbers: number[] }[] = [];
  readonly days: { ticker: string; day: DayStats }[] = [];
  readonly books: { ticker: string; events: RawPriceBook[] }[] = [];
  readonly letters: DeadLetter[] = [];
  readonly statuses: ConnectorStatus[] = [];
  /** Throws from trades() while positive, counting down. */
  failTrades = 0;
  bookHealthy = true;
  trades(instrument: Instrument, trades: Trade[]) {
    if (this.failTrades > 0) {
      this.failTrades--;
      throw new Error('a sink failed');
    }
    this.batches.push({
      ticker: instrument.ticker,
      seqs: trades.map((t) => t.seq),
      tradeNumbers: trades.map((t) => t.tradeNumber),
    });
  }
  day(instrument: Instrument, day: DayStats) {
    this.days.push({ ticker: instrument.ticker, day });
  }
  bookEvents(instrument: Instrument, events: RawPriceBook[]) {
    this.books.push({ ticker: instrument.ticker, events });
    return this.bookHealthy;
  }
  readonly closes: { ticker: string; close: number }[] = [];
  previousClose(instrument: Instrument, close: number) {
    this.closes.push({ ticker: instrument.ticker, close });
  }
  deadLetter(letter: DeadLetter) {
    this.letters.push(letter);
  }
  status(s: ConnectorStatus) {
    this.statuses.push(s);
  }
}

const tickers: Ticker[] = [
  { ticker: 'PETR4', exchange: 'B' },
  { ticker: 'VALE3', exchange: 'B' },
];

describe('MarketFeed', () => {
  const started: MarketFeed[] = [];
  afterEach(async () => {
    for (const f of started.splice(0)) await f.stop();
  });

  const feedOn = (orderChanged?: (id: bigint) => void) => {
    const conn = new ScriptedConnector();
    const sinks = new Recorder();
    const metrics = createMetrics();
    const feed = new MarketFeed(
      conn,
      { key: 'k', user: 'u', password: 'p', tickers, connectTimeoutMs: 2_000 },
      sinks,
      createLogger('silent'),
      metrics,
    );
    if (orderChanged) feed.announceOrdersTo({ onOrderUpdate: orderChanged, routingChanged: () => {} });
    const outcome = async (kind: string, outcome: string) =>
      (await metrics.marketEvents.get()).values.find(
        (v) => v.labels.kind === kind && v.labels.outcome === outcome,
      )?.value ?? 0;
    return { conn, sinks, feed, outcome };
  };
  const connect = async (f: ReturnType<typeof feedOn>) => {
    const up = f.feed.start();
    f.conn.push(...CONNECTED);
    await up;
    return f;
  };
  /** A connected feed, stopped after the test. */
  const start = async (orderChanged?: (id: bigint) => void) => {
    const f = await connect(feedOn(orderChanged));
    started.push(f.feed);
    return f;
  };

  it('logs in, and subscribes every ticker once the market data connection is up', async () => {
    const { conn, feed, sinks } = await start();
    expect(feed.status).toMatchObject({ login: 0, marketData: 4, activation: 0, connected: true });
    expect(sinks.statuses.at(-1)?.connected).toBe(true);
    // A repeat of the state does not subscribe again.
    conn.push(state(2, 4));
    await until(() => sinks.statuses.length === 4, 'the repeated state');
    expect(conn.calls).toEqual([
      'login routing=false',
      'subscribeTicker PETR4',
      'subscribePriceBook PETR4',
      'subscribeTicker VALE3',
      'subscribePriceBook VALE3',
    ]);
  });

  it("reads each ticker's previous close after subscribing it; a bad or failed one is lettered or counted, never used", async () => {
    const f = feedOn();
    f.conn.closes.set('PETR4', 38.5);
    f.conn.closes.set('VALE3', 62.005); // off the 0.01 grid
    const bad = await connect(f);
    started.push(bad.feed);
    expect(bad.sinks.closes).toEqual([{ ticker: 'PETR4', close: 38.5 }]);
    expect(bad.sinks.letters).toMatchObject([
      {
        source: 'profitdll.lastDailyClose',
        reason: 'bad_price',
        payload: { ticker: 'VALE3', close: 62.005 },
      },
    ]);
    const g = feedOn();
    g.conn.closes.set('PETR4', new Error('NL_INVALID_TICKER'));
    const failed = await connect(g);
    started.push(failed.feed);
    expect(failed.sinks.closes).toEqual([]);
    expect(failed.sinks.letters).toEqual([]);
    expect(failed.feed.status.connected).toBe(true);
  });

  it("rejects start() with the DLL's reason when the login fails", async () => {
    const { conn, feed } = feedOn();
    const up = feed.start();
    conn.push(state(0, 2));
    await expect(up).rejects.toThrow('ProfitDLL login failed: invalid password');
    await feed.stop();
  });

  it("hands each drain's trades on per ticker, in order, numbered per ticker", async () => {
    const { conn, sinks } = await start();
    conn.push(rawTrade('PETR4', 10), rawTrade('VALE3', 20), rawTrade('PETR4', 11), rawTrade('PETR4', 12));
    await until(() => sinks.batches.length === 2, 'the first drain');
    conn.push(rawTrade('VALE3', 21), rawTrade('PETR4', 13));
    await until(() => sinks.batches.length === 4, 'the second drain');
    expect(sinks.batches).toEqual([
      { ticker: 'PETR4', seqs: [1, 2, 3], tradeNumbers: [10, 11, 12] },
      { ticker: 'VALE3', seqs: [1], tradeNumbers: [20] },
      { ticker: 'VALE3', seqs: [2], tradeNumbers: [21] },
      { ticker: 'PETR4', seqs: [4], tradeNumbers: [13] },
    ]);
    expect(sinks.letters).toEqual([]);
  });

  it('never numbers a history answer as live trades', async () => {
    const { conn, sinks } = await start();
    conn.push({ ...rawTrade('PETR4', 5), history: true }, rawTrade('PETR4', 6), {
      ...rawTrade('PETR4', 7),
      history: true,
    });
    await until(() => sinks.batches.length === 1, 'the live trade');
    expect(sinks.batches).toEqual([{ ticker: 'PETR4', seqs: [1], tradeNumbers: [6] }]);
    expect(sinks.letters).toEqual([]);
  });

  it('hands history answers to its intake, and holds the live trades of a ticker it fills, checked, not numbered', async () => {
    const f = feedOn();
    const seen = {
      subscribed: [] as string[],
      history: [] as number[],
      progress: [] as number[],
      held: [] as Trade[],
    };
    f.feed.fillHistoryWith({
      subscribed: (t) => seen.subscribed.push(t.ticker),
      holds: (ticker) => ticker === 'PETR4',
      hold: (t) => seen.held.push(t),
      historyTrade: (ev) => seen.history.push(ev.tradeNumber),
      progress: (ev) => seen.progress.push(ev.progress),
      stop: () => {},
    });
    await connect(f);
    started.push(f.feed);
    expect(seen.subscribed).toEqual(['PETR4', 'VALE3']);
    f.conn.push(
      { ...rawTrade('PETR4', 1), history: true },
      { ...asset, kind: 'progress', ticker: 'PETR4', progress: 100 },
      rawTrade('PETR4', 2),
      rawTrade('PETR4', 3, { price: -1 }),
      rawTrade('VALE3', 4),
    );
    await until(() => f.sinks.batches.length === 1, 'the live trade of VALE3');
    expect(seen.history).toEqual([1]);
    expect(seen.progress).toEqual([100]);
    expect(seen.held.map((t) => [t.tradeNumber, t.seq])).toEqual([[2, 0]]);
    expect(f.sinks.batches).toEqual([{ ticker: 'VALE3', seqs: [1], tradeNumbers: [4] }]);
    expect(f.sinks.letters).toMatchObject([{ source: 'profitdll.trade', reason: 'bad_price' }]);
  });

  it('goes on draining after a sink throws: the failed drain is counted, the next one delivered', async () => {
    const { conn, sinks, outcome } = await start();
    sinks.failTrades = 1;
    conn.push(rawTrade('PETR4', 1));
    await until(async () => (await outcome('any', 'drain_error')) === 1, 'the drain error');
    conn.push(rawTrade('PETR4', 2));
    await until(() => sinks.batches.length === 1, 'the next drain');
    // The failed batch's trade was numbered before the sink threw: the next one follows it.
    expect(sinks.batches).toEqual([{ ticker: 'PETR4', seqs: [2], tradeNumbers: [2] }]);
  });

  it('turns each growth of the ring drop counter into one ring_overflow letter', async () => {
    const { conn, feed, sinks, outcome } = feedOn();
    feed.drainOnce();
    expect(sinks.letters).toEqual([]);
    conn.droppedNow = 7n;
    feed.drainOnce();
    feed.drainOnce();
    conn.droppedNow = 10n;
    feed.drainOnce();
    expect(sinks.letters).toEqual([
      {
        source: 'capture.ring',
        reason: 'ring_overflow',
        detail: '7 events were dropped because the capture ring was full',
        payload: { lost: 7, totalDropped: 7 },
      },
      {
        source: 'capture.ring',
        reason: 'ring_overflow',
        detail: '3 events were dropped because the capture ring was full',
        payload: { lost: 3, totalDropped: 10 },
      },
    ]);
    expect(await outcome('any', 'ring_overflow')).toBe(10);
  });

  it('letters the running loop writes when the ring overflows while it waits', async () => {
    const { conn, sinks } = await start();
    conn.droppedNow = 4n;
    conn.wake();
    await until(() => sinks.letters.length === 1, 'the ring_overflow letter');
    const drains = conn.drains;
    conn.wake();
    conn.wake();
    await until(() => conn.drains >= drains + 2, 'two more drains');
    expect(sinks.letters).toMatchObject([{ reason: 'ring_overflow', payload: { lost: 4, totalDropped: 4 } }]);
  });

  it('dead-letters what capture refuses, with its reason, and what the DLL reports as bad', async () => {
    const { conn, feed, sinks, outcome } = feedOn();
    const unknown: EventOf<'unknown'> = { kind: 'unknown', code: 99, capturedAtNs: 0 };
    const invalid: EventOf<'invalidTicker'> = {
      ...asset,
      kind: 'invalidTicker',
      ticker: 'PETR4',
      version: 1,
    };
    const tiny: EventOf<'tinyBook'> = {
      ...asset,
      kind: 'tinyBook',
      ticker: 'PETR4',
      price: 38.5,
      qty: 100,
      side: 2,
    };
    conn.push(
      rawTrade('PETR4', 1, { price: -1 }),
      rawTrade('ITUB4', 2),
      rawTrade('PETR4', 3, { truncated: true }),
      rawTrade('PETR4', 4),
      tiny,
      invalid,
      unknown,
      state(9, 1),
    );
    feed.drainOnce();
    expect(sinks.letters.map((l) => [l.source, l.reason])).toEqual([
      ['profitdll.trade', 'bad_price'],
      ['profitdll.trade', 'unknown_ticker'],
      ['profitdll.trade', 'truncated_field'],
      ['profitdll.tinyBook', 'bad_side'],
      ['profitdll.invalidTicker', 'invalidTicker'],
      ['profitdll.unknown', 'unknown'],
      ['profitdll.state', 'unknown_state_type'],
    ]);
    expect(sinks.letters[0]).toMatchObject({ detail: 'price -1', payload: { price: -1, tradeNumber: 1 } });
    expect(sinks.letters[6]).toMatchObject({ detail: 'type 9', payload: { connType: 9, result: 1 } });
    // The good trade among them goes on, numbered as the first accepted one.
    expect(sinks.batches).toEqual([{ ticker: 'PETR4', seqs: [1], tradeNumbers: [4] }]);
    expect(await outcome('trade', 'dead_lettered')).toBe(3);
  });

  it('hands on daily figures and price-book events, resubscribes a broken book, and reports orders', () => {
    const orders: bigint[] = [];
    const { conn, feed, sinks } = feedOn((id) => orders.push(id));
    const daily: EventOf<'daily'> = {
      ...asset,
      kind: 'daily',
      ticker: 'VALE3',
      date: b3Now(),
      open: 62,
      high: 63,
      low: 61.5,
      close: 62.5,
      volume: 0,
      adjust: 0,
      maxLimit: 68,
      minLimit: 56,
      volBuyer: 0,
      volSeller: 0,
      qty: 1_000,
      trades: 10,
      openContracts: 0,
      qtyBuyer: 0,
      qtySeller: 0,
      tradesBuyer: 0,
      tradesSeller: 0,
    };
    const book: EventOf<'priceBook'> = {
      ...asset,
      kind: 'priceBook',
      ticker: 'PETR4',
      action: 0,
      position: 0,
      side: 0,
      qty: 100,
      count: 1,
      price: 38.5,
      hasSellArray: false,
      hasBuyArray: false,
    };
    sinks.bookHealthy = false;
    conn.push(
      daily,
      book,
      { ...book, price: 38.49 },
      { kind: 'order', localOrderId: 7n, clOrderId: '', version: 0, truncated: false, capturedAtNs: 0 },
    );
    feed.drainOnce();
    expect(sinks.days).toMatchObject([
      { ticker: 'VALE3', day: { open: 62, high: 63, low: 61.5, trades: 10 } },
    ]);
    expect(sinks.books.map((b) => [b.ticker, b.events.map((e) => e.price)])).toEqual([
      ['PETR4', [38.5, 38.49]],
    ]);
    expect(conn.calls).toEqual(['unsubscribePriceBook PETR4', 'subscribePriceBook PETR4']);
    expect(orders).toEqual([7n]);
  });

  it('stop() during the connect never calls the finalized DLL for a connected state it finds last', async () => {
    const f = feedOn();
    const up = f.feed.start().catch((err: Error) => err);
    f.conn.push(state(0, 0), state(3, 0));
    await until(() => f.sinks.statuses.length === 2, 'login and activation');
    // The DLL announces market data up while Finalize runs: seen only by stop()'s last drain.
    f.conn.deliveredAtFinalize = [state(2, 4)];
    await f.feed.stop();
    expect(f.feed.status.connected).toBe(true);
    expect(f.conn.calls).toEqual(['login routing=false', 'finalize']);
    await up;
  });

  it('stop() still hands on what the DLL delivered while it stopped', async () => {
    const { conn, feed, sinks } = await connect(feedOn());
    conn.deliveredAtFinalize = [rawTrade('PETR4', 1)];
    await feed.stop();
    expect(conn.calls.at(-1)).toBe('finalize');
    expect(sinks.batches).toEqual([{ ticker: 'PETR4', seqs: [1], tradeNumbers: [1] }]);
  });
});
