import { afterEach, describe, expect, it } from 'vitest';
import { applyBookAction, BookError, PriceBook } from '../sync-server/market/book.ts';
import { TradeCapture } from '../sync-server/market/capture.ts';
import { type Instrument, instrumentFor } from '../sync-server/shared/instruments.ts';
import { NL, nlCodeName, ProfitDllError } from './errors.ts';
import { defaultLibraryPaths, ProfitConnector } from './profitdll.ts';
import type { RawEvent } from './records.ts';
import {
  collect,
  connectSimulator,
  INSTRUMENTS,
  SIM_LIBRARIES,
  type SimApi,
  sleep,
  statesOf,
  type Ticker,
  tradesOf,
} from './testkit.ts';
import type { InjectedTrade } from './types.ts';

// The binding against the real simulator and capture libraries (native/build), no mocks.

let open: ProfitConnector | undefined;
afterEach(() => {
  open?.finalize();
  open = undefined;
});

async function connect(opts: Parameters<typeof connectSimulator>[0] = {}) {
  const r = await connectSimulator(opts);
  open = r.connector;
  return r;
}

function sim(c: ProfitConnector) {
  if (!c.sim) throw new Error('simulator controls missing');
  return c.sim;
}

function expectDllError(fn: () => unknown, codeName: string) {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProfitDllError);
    expect((err as ProfitDllError).codeName).toBe(codeName);
    expect((err as ProfitDllError).code).toBe(NL[codeName.slice(3) as keyof typeof NL]);
    return;
  }
  throw new Error(`expected ${codeName}, but the call succeeded`);
}

const onGrid = (price: number, tick: number) => Math.abs(price / tick - Math.round(price / tick)) < 1e-9;
const DATE = /^(\d{2})\/(\d{2})\/(\d{4}) (\d{2}):(\d{2}):(\d{2})\.(\d{3})$/;
/** B3 time (UTC-3) → epoch ms. */
function b3Ms(date: string): number {
  const m = DATE.exec(date);
  if (!m) return Number.NaN;
  const [d, mo, y, h, mi, s, ms] = m.slice(1).map(Number) as number[];
  return Date.UTC(y as number, (mo as number) - 1, d, h, mi, s, ms) + 3 * 3_600_000;
}
const b3Now = () => {
  const t = new Date(Date.now() - 3 * 3_600_000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(t.getUTCDate())}/${p(t.getUTCMonth() + 1)}/${t.getUTCFullYear()} ${p(t.getUTCHours())}:${p(t.getUTCMinutes())}:${p(t.getUTCSeconds())}.${p(t.getUTCMilliseconds(), 3)}`;
};

describe('login and connection state', () => {
  it('reports the market-data state sequence and reaches connected', async () => {
    const { events } = await connect();
    expect(statesOf(events).map((s) => [s.connType, s.result])).toEqual([
      [0, 0],
      [2, 1],
      [2, 2],
      [3, 0],
      [2, 4],
    ]);
    const ns = statesOf(events).map((s) => s.capturedAtNs);
    expect(ns).toEqual([...ns].sort((a, b) => a - b));
    expect(Math.abs((ns[0] as number) / 1e6 - Date.now())).toBeLessThan(5_000);
  });

  it('with routing also connects the broker and reports the account', async () => {
    const { events } = await connect({ routing: true });
    expect(statesOf(events).map((s) => [s.connType, s.result])).toEqual([
      [0, 0],
      [1, 1],
      [2, 1],
      [1, 2],
      [2, 2],
      [1, 4],
      [3, 0],
      [1, 5],
      [2, 4],
    ]);
    expect(events.find((e) => e.kind === 'account')).toMatchObject({
      brokerId: 1982,
      accountId: 'SIM-0001',
      holder: 'Tape Simulator',
    });
  });

  it('a wrong password reports LOGIN=2 and market requests then fail with NL_NO_LOGIN', async () => {
    const c = ProfitConnector.open(defaultLibraryPaths());
    open = c;
    c.login('key', 'tape', 'wrong');
    const events = await collect(c, (ev) => statesOf(ev).length > 0, 'the login state');
    await sleep(20);
    events.push(...c.drain());
    expect(statesOf(events).map((s) => [s.connType, s.result])).toEqual([[0, 2]]);
    expectDllError(() => c.subscribeTicker('PETR4', 'B'), 'NL_NO_LOGIN');
  });

  it('an invalid activation key reports activation 1 and market not logged', async () => {
    const c = ProfitConnector.open(defaultLibraryPaths());
    open = c;
    c.login('invalid', 'tape', 'secret');
    const events = await collect(
      c,
      (ev) => statesOf(ev).some((s) => s.connType === 2 && s.result === 3),
      'not logged',
    );
    expect(statesOf(events).find((s) => s.connType === 3)?.result).toBe(1);
    expectDllError(() => c.subscribeTicker('PETR4', 'B'), 'NL_NO_LICENSE');
  });

  it('rejects empty credentials with named codes and subscriptions before login with NL_NOT_INITIALIZED', () => {
    const c = ProfitConnector.open(defaultLibraryPaths());
    expectDllError(() => c.subscribeTicker('PETR4', 'B'), 'NL_NOT_INITIALIZED');
    expectDllError(() => c.subscribePriceBook('PETR4', 'B'), 'NL_NOT_INITIALIZED');
    expectDllError(() => sim(c).burst(10), 'NL_NOT_INITIALIZED');
    expectDllError(() => c.login('', 'tape', 'secret'), 'NL_INVALID_ARGS');
    expectDllError(() => c.login('key', '', 'secret'), 'NL_NO_USER');
    expectDllError(() => c.login('key', 'tape', ''), 'NL_NO_PASSWORD');
    expect(() => c.subscribeTicker('PETR4', 'B')).toThrow(/log in first/);
    c.finalize(); // nothing to finalize: still fine
  });

  it('finalize then login again works, repeatedly, and only one connector may be logged in', async () => {
    for (let round = 0; round < 3; round++) {
      const { connector } = await connect();
      expect(() => ProfitConnector.open(defaultLibraryPaths())).toThrow(/still logged in/);
      expectDllError(() => connector.login('k', 'u', 'p'), 'NL_DUPLICATE_RESOURCE');
      connector.subscribeTicker('PETR4', 'B');
      sim(connector).setRate(400);
      await collect(connector, (ev) => tradesOf(ev).length >= 3, 'trades after login');
      connector.finalize();
      connector.finalize(); // idempotent
      open = undefined;
    }
    // The same connector can log in again after finalize.
    const { connector } = await connect();
    connector.finalize();
    connector.login('k', 'u', 'p');
    open = connector;
    await collect(
      connector,
      (ev) => statesOf(ev).some((s) => s.connType === 2 && s.result === 4),
      'reconnect',
    );
  });

  it('names every return code', () => {
    expect(nlCodeName(NL.INVALID_TICKER)).toBe('NL_INVALID_TICKER');
    expect(nlCodeName(0x80000001)).toBe('NL_INTERNAL_ERROR');
    expect(nlCodeName(0x80000077 | 0)).toBe('0x80000077');
    expect(Object.keys(NL)).toHaveLength(18);
  });
});

// What differs between the current market-data calls and the obsolete ones runs on both: the
// full simulator (V2 used) and the V1-only one (the fallback, found by symbol lookup).
describe.each(SIM_LIBRARIES)('market data on the $api calls', ({ api }) => {
  it(`detects the ${api} calls at load and delivers through them only`, async () => {
    const { connector } = await connect({ api });
    expect(connector.marketDataApi).toEqual({ trades: api, book: api });
    const s = sim(connector);
    connector.subscribeTicker('PETR4', 'B');
    connector.subscribePriceBook('PETR4', 'B');
    s.setRate(500);
    await collect(
      connector,
      (ev) => tradesOf(ev).length >= 20 && ev.filter((e) => e.kind === 'priceBook').length >= 30,
      'trades and price book events',
    );
    const all = s.stats();
    const v2 = s.v2Stats();
    // Every delivery went through one generation: all V2 on the full library, none on the V1 one.
    expect(v2.trades).toBe(api === 'v2' ? all.trades : 0);
    expect(v2.priceDepths).toBe(api === 'v2' ? all.priceBooks : 0);
    expect(all.trades).toBeGreaterThanOrEqual(20);
    const depth = connector.priceDepth('PETR4', 'B', 0);
    if (api === 'v1') expect(depth).toBeUndefined();
    else {
      // GetPriceGroup through koffi's TConnectorPriceGroup: the C layout, read back field for field.
      expect(depth?.length).toBeGreaterThanOrEqual(10);
      for (const l of depth ?? []) {
        expect(onGrid(l.price, 0.01)).toBe(true);
        expect(l.qty % 100).toBe(0);
        expect(l.count).toBeGreaterThanOrEqual(1);
        expect(l.flags).toBe(0);
      }
    }
  });

  it('sends trades only for subscribed tickers, on the tick grid, in whole lots', async () => {
    const { connector } = await connect({ api });
    const subscribed: Ticker[] = ['PETR4', 'BBDC4', 'WINZ25', 'WDOZ25'];
    for (const t of subscribed) connector.subscribeTicker(t, INSTRUMENTS[t].exchange);
    sim(connector).setRate(300);
    const events = await collect(
      connector,
      (ev) => subscribed.every((t) => tradesOf(ev).filter((x) => x.ticker === t).length >= 10),
      '10 trades per subscribed ticker',
    );
    const trades = tradesOf(events);
    const lastNumber = new Map<string, number>();
    for (const t of trades) {
      expect(subscribed).toContain(t.ticker);
      const spec = INSTRUMENTS[t.ticker as Ticker];
      expect(t.exchange).toBe(spec.exchange);
      expect(t.price).toBeGreaterThan(0);
      expect(onGrid(t.price, spec.tick), `${t.ticker} ${t.price} on a ${spec.tick} grid`).toBe(true);
      expect(Math.abs(t.price - spec.price) / spec.price).toBeLessThan(0.1);
      expect(t.qty).toBeGreaterThan(0);
      expect(t.qty % spec.lot).toBe(0);
      expect(t.volume).toBeCloseTo(t.price * t.qty, 6);
      expect([2, 3]).toContain(t.tradeType);
      expect(t).toMatchObject({ history: false, isEdit: false, truncated: false, feed: 0 });
      expect(Math.abs(b3Ms(t.date) - Date.now())).toBeLessThan(10_000);
      expect(Math.abs(t.capturedAtNs / 1e6 - Date.now())).toBeLessThan(10_000);
      expect(t.tradeNumber).toBeGreaterThan(lastNumber.get(t.ticker) ?? 0);
      lastNumber.set(t.ticker, t.tradeNumber);
    }
    // A subscription also brings the day's summary and the top of book.
    for (const t of subscribed) {
      expect(events.some((e) => e.kind === 'daily' && e.ticker === t)).toBe(true);
      expect(events.some((e) => e.kind === 'tinyBook' && e.ticker === t && e.side === 0)).toBe(true);
      expect(events.some((e) => e.kind === 'tickerState' && e.ticker === t && e.state === 0)).toBe(true);
    }
  });

  it('unsubscribe stops the trades of that ticker only', async () => {
    const { connector } = await connect({ api });
    connector.subscribeTicker('PETR4', 'B');
    connector.subscribeTicker('VALE3', 'B');
    sim(connector).setRate(500);
    await collect(
      connector,
      (ev) => ['PETR4', 'VALE3'].every((t) => tradesOf(ev).some((x) => x.ticker === t)),
      'trades of both',
    );
    connector.unsubscribeTicker('VALE3', 'B');
    await sleep(30); // a step already under way may still deliver
    connector.drain();
    const after = await collect(connector, (ev) => tradesOf(ev).length >= 20, '20 more trades');
    expect(tradesOf(after).every((t) => t.ticker === 'PETR4')).toBe(true);
  });

  it('reports an unknown ticker through the invalid-ticker callback and a named code', async () => {
    const { connector } = await connect({ api });
    expectDllError(() => connector.subscribeTicker('NOPE3', 'B'), 'NL_INVALID_TICKER');
    expectDllError(() => connector.subscribeTicker('PETR4', 'Q'), 'NL_EXCHANGE_UNKNOWN');
    expectDllError(() => connector.subscribeTicker('', 'B'), 'NL_INVALID_ARGS');
    const events = await collect(
      connector,
      (ev) => ev.filter((e) => e.kind === 'invalidTicker').length === 2,
      'two invalid-ticker events',
    );
    expect(events.filter((e) => e.kind === 'invalidTicker').map((e) => [e.ticker, e.exchange])).toEqual([
      ['NOPE3', 'B'],
      ['PETR4', 'Q'],
    ]);
  });

  it('adds instruments and reports ticker states on request', async () => {
    const { connector } = await connect({ api });
    const s = sim(connector);
    s.addTicker('MGLU3', 'B', 0.01, 100, 2.15);
    expectDllError(() => s.addTicker('BAD3', 'B', 0, 100, 10), 'NL_INVALID_ARGS');
    expectDllError(() => s.addTicker('BAD3', 'B', 0.01, 100, -1), 'NL_INVALID_ARGS');
    expectDllError(() => s.setRate(-1), 'NL_INVALID_ARGS');
    connector.subscribeTicker('MGLU3', 'B');
    s.setRate(500);
    s.setTickerState('MGLU3', 'B', 3);
    const events = await collect(
      connector,
      (ev) => tradesOf(ev).length >= 10 && ev.some((e) => e.kind === 'tickerState' && e.state === 3),
      'MGLU3 trades and its state change',
    );
    for (const t of tradesOf(events)) {
      expect(t.ticker).toBe('MGLU3');
      expect(onGrid(t.price, 0.01)).toBe(true);
      expect(t.qty % 100).toBe(0);
    }
    expect(events.find((e) => e.kind === 'tickerState' && e.state === 3)).toMatchObject({ ticker: 'MGLU3' });
  });
});

type Level = { price: number; qty: number; count: number };
type Offer = { offerId: bigint; price: number; qty: number; agent: number };

/** Applies a book event to [bids, asks] with the server's own rule (sync-server/market/book.ts). */
function applyBook<T>(book: T[][], e: { action: number; position: number; side: number }, entry: () => T) {
  const side = book[e.side];
  if (!side) throw new Error(`bad side ${e.side}`);
  applyBookAction(side, e.action, e.position, entry);
}

describe.each(SIM_LIBRARIES)('books on the $api calls', ({ api }) => {
  it('sends book events only for book subscriptions, and they rebuild a consistent book', async () => {
    const { connector } = await connect({ api });
    const s = sim(connector);
    connector.subscribeTicker('PETR4', 'B');
    connector.subscribeTicker('VALE3', 'B');
    s.setRate(500);
    const quotesOnly = await collect(connector, (ev) => tradesOf(ev).length >= 40, '40 trades');
    expect(quotesOnly.some((e) => e.kind === 'priceBook' || e.kind === 'offerBook')).toBe(false);

    connector.subscribePriceBook('PETR4', 'B');
    const priceOnly = await collect(
      connector,
      (ev) => ev.filter((e) => e.kind === 'priceBook').length >= 60,
      'price book events',
    );
    expect(priceOnly.some((e) => e.kind === 'offerBook')).toBe(false);
    expect(priceOnly.filter((e) => e.kind === 'priceBook').every((e) => e.ticker === 'PETR4')).toBe(true);

    connector.subscribeOfferBook('PETR4', 'B');
    await collect(
      connector,
      (ev) => ev.filter((e) => e.kind === 'offerBook').length >= 60,
      'offer book events',
    );

    // Rebuild both books from a fresh subscription; compare them with each other and the top of book.
    connector.unsubscribePriceBook('PETR4', 'B');
    connector.unsubscribeOfferBook('PETR4', 'B');
    await sleep(20);
    connector.drain();
    connector.subscribePriceBook('PETR4', 'B');
    connector.subscribeOfferBook('PETR4', 'B');
    const window = await collect(connector, (ev) => tradesOf(ev).length >= 100, '100 trades with books');
    s.setRate(0);
    await sleep(30);
    window.push(...connector.drain());

    const levels: Level[][] = [[], []];
    const offers: Offer[][] = [[], []];
    const top: (RawEvent | undefined)[] = [undefined, undefined];
    for (const e of window) {
      if (e.kind === 'priceBook')
        applyBook(levels, e, () => ({ price: e.price, qty: e.qty, count: e.count }));
      if (e.kind === 'offerBook')
        applyBook(offers, e, () => ({ offerId: e.offerId, price: e.price, qty: e.qty, agent: e.agent }));
      if (e.kind === 'tinyBook' && e.ticker === 'PETR4') top[e.side] = e;
    }
    const [bids, asks] = levels as [Level[], Level[]];
    expect(bids).toHaveLength(10);
    expect(asks).toHaveLength(10);
    const ticks = (p: number) => Math.round(p / 0.01);
    expect(ticks((asks[0] as Level).price) - ticks((bids[0] as Level).price)).toBe(1);
    expect(bids.map((l) => ticks(l.price))).toEqual(bids.map((_, i) => ticks((bids[0] as Level).price) - i));
    expect(asks.map((l) => ticks(l.price))).toEqual(asks.map((_, i) => ticks((asks[0] as Level).price) + i));
    for (const l of [...bids, ...asks]) {
      expect(l.qty % 100).toBe(0);
      expect(l.qty).toBeGreaterThan(0);
      expect(l.count).toBeGreaterThanOrEqual(1);
    }
    // The offer book aggregates to the price book, and the tiny book is its top.
    for (const side of [0, 1]) {
      const byPrice = new Map<number, { qty: number; count: number }>();
      for (const o of offers[side] as Offer[]) {
        const agg = byPrice.get(ticks(o.price)) ?? { qty: 0, count: 0 };
        byPrice.set(ticks(o.price), { qty: agg.qty + o.qty, count: agg.count + 1 });
      }
      expect([...byPrice.entries()]).toEqual(
        (levels[side] as Level[]).map((l) => [ticks(l.price), { qty: l.qty, count: l.count }]),
      );
      expect(top[side]).toMatchObject({ price: levels[side]?.[0]?.price, qty: levels[side]?.[0]?.qty });
    }
  });

  it('re-seeding an instrument clears and resends its book', async () => {
    const { connector } = await connect({ api });
    connector.subscribePriceBook('ITUB4', 'B');
    await collect(
      connector,
      (ev) => ev.filter((e) => e.kind === 'priceBook').length >= 20,
      'the initial book',
    );
    sim(connector).addTicker('ITUB4', 'B', 0.01, 100, 20);
    const events = await collect(
      connector,
      (ev) => ev.filter((e) => e.kind === 'priceBook' && e.action === 0).length >= 20,
      'the re-seeded book',
    );
    const levels: Level[][] = [
      Array.from({ length: 10 }, () => ({ price: 0, qty: 0, count: 0 })),
      Array.from({ length: 10 }, () => ({ price: 0, qty: 0, count: 0 })),
    ];
    for (const e of events)
      if (e.kind === 'priceBook')
        applyBook(levels, e, () => ({ price: e.price, qty: e.qty, count: e.count }));
    // The re-seeded market opens at 20, or, inside B3's session, where today's deterministic
    // history from 20 ends (history.c history_resume): a fresh book one tick wide around it.
    const bid = levels[0]?.[0]?.price as number;
    expect(Math.abs(bid - 20)).toBeLessThanOrEqual(2);
    expect(levels[1]?.[0]?.price).toBeCloseTo(bid + 0.01, 9);
    expect(levels.map((l) => l.length)).toEqual([10, 10]);
  });
});

/** What the V2 path makes of an injected date: a TSystemTime and back, or the zero date. */
const ZERO_DATE = '00/00/0000 00:00:00.000';
const throughApi = (api: SimApi, date: string | null) =>
  api === 'v1' ? (date ?? '') : date && DATE.test(date) ? date : ZERO_DATE;

describe.each(SIM_LIBRARIES)('injected trades on the $api calls', ({ api }) => {
  it('reach JS as given, garbage included, and the server rejects each with its reason', async () => {
    const { connector } = await connect({ api });
    const now = b3Now();
    const garbage: InjectedTrade[] = [
      { ticker: 'PETR4', exchange: 'B', date: 'yesterday', price: 38.5, qty: 100 },
      { ticker: 'PETR4', exchange: 'B', date: '31/02/2025 10:00:00.000', price: Number.NaN, qty: 100 },
      { ticker: 'PETR4', exchange: 'B', date: now, price: -1.5, qty: 100 },
      { ticker: 'PETR4', exchange: 'B', date: now, price: 38.505, qty: 0 },
      {
        ticker: 'NOPE3',
        exchange: 'X',
        date: now,
        price: Number.POSITIVE_INFINITY,
        qty: -7,
        feed: -3,
        tradeNumber: 0xffffffff,
        volume: Number.NaN,
        buyAgent: -1,
        sellAgent: 2 ** 31 - 1,
        tradeType: 99,
        isEdit: true,
      },
      { ticker: 'PE\uD800R4', exchange: 'B', date: `${now}\uDFFF`, price: 38.5, qty: 100 },
      { ticker: 'ÇÃO€😀', exchange: 'B', date: now, price: 38.5, qty: 100 },
      { ticker: null, exchange: null, date: null, price: 0, qty: 0 },
      { ticker: 'PETR4', exchange: 'B', date: now, price: Number.NaN, qty: 100 },
      { ticker: 'PETR4', exchange: 'B', date: now, price: 38.5, qty: -100 },
    ];
    for (const t of garbage) sim(connector).injectTrade(t);
    const long = { ticker: 'X'.repeat(40), exchange: 'BOVESPA', date: '9'.repeat(60), price: 1, qty: 1 };
    sim(connector).injectTrade(long);
    const trades = tradesOf(
      await collect(connector, (ev) => tradesOf(ev).length === 11, 'the injected trades'),
    );
    garbage.forEach((g, i) => {
      expect(trades[i]).toEqual({
        kind: 'trade',
        ticker: g.ticker ?? '',
        exchange: g.exchange ?? '',
        // TConnectorAssetIdentifier.FeedType is a byte; TConnectorTrade.TradeDate a TSystemTime.
        feed: api === 'v1' ? (g.feed ?? 0) : (g.feed ?? 0) & 0xff,
        date: throughApi(api, g.date),
        tradeNumber: g.tradeNumber ?? 1,
        price: g.price,
        volume: g.volume ?? g.price * g.qty,
        qty: g.qty,
        buyAgent: g.buyAgent ?? 0,
        sellAgent: g.sellAgent ?? 0,
        tradeType: g.tradeType ?? 1,
        isEdit: g.isEdit ?? false,
        lastPacket: false,
        history: false,
        truncated: false,
        capturedAtNs: expect.any(Number),
      });
    });
    expect(trades[5]?.ticker.charCodeAt(2)).toBe(0xd800); // the lone surrogate survived, for the validator
    expect(trades[10]).toMatchObject({
      ticker: 'X'.repeat(24),
      exchange: 'BOVE',
      date: api === 'v1' ? '9'.repeat(32) : ZERO_DATE,
      truncated: true,
    });
    // Every one is dead-lettered, for the same reason on either generation of calls.
    const capture = new TradeCapture(
      new Set(Object.entries(INSTRUMENTS).map(([t, i]) => `${t}:${i.exchange}`)),
    );
    expect(trades.map((t) => capture.capture(t)).map((r) => (r.ok ? 'accepted' : r.reason))).toEqual([
      'bad_date',
      'bad_date',
      'bad_price',
      'price_off_tick_grid',
      'unknown_ticker',
      'unknown_ticker',
      'unknown_ticker',
      'unknown_ticker',
      'bad_price',
      'bad_quantity',
      'truncated_field',
    ]);
  });
});

describe('V2 reads the DLL refuses', () => {
  it('a trade TranslateTrade refuses and a level GetPriceGroup refuses are dead-lettered with a reason, never dropped', async () => {
    const { connector } = await connect({ api: 'v2' });
    const s = sim(connector);
    s.failV2Reads(1, 0);
    const trade = { ticker: 'PETR4', exchange: 'B', date: b3Now(), price: 38.5, qty: 100 };
    s.injectTrade(trade);
    s.injectTrade(trade);
    const trades = tradesOf(await collect(connector, (ev) => tradesOf(ev).length === 2, 'two trades'));
    const capture = new TradeCapture(new Set(['PETR4:B']));
    const [refused, read] = trades.map((t) => capture.capture(t));
    expect(refused).toEqual({
      ok: false,
      reason: 'bad_date',
      detail: 'expected DD/MM/YYYY HH:MM:SS.ZZZ, got "TranslateTrade failed"',
    });
    expect(read?.ok).toBe(true);

    s.failV2Reads(0, 1);
    connector.subscribePriceBook('PETR4', 'B');
    const events = await collect(
      connector,
      (ev) => ev.filter((e) => e.kind === 'priceBook').length >= 2,
      'the first book events',
    );
    const [first, second] = events.filter((e) => e.kind === 'priceBook');
    const book = new PriceBook(instrumentFor('PETR4', 'B') as Instrument);
    // The level that could not be read reaches the book as NaN, which refuses it by name.
    expect(first?.price).toBeNaN();
    expect(() => first && book.apply(first)).toThrow(BookError);
    expect(() => first && book.apply(first)).toThrow(/price NaN/);
    expect(second?.price).toBeGreaterThan(0);
  });
});

describe('capture ring', () => {
  it('counts every event it drops when full: drained + dropped = sent', async () => {
    const { connector } = await connect({ ringCapacity: 16384 });
    const s = sim(connector);
    connector.subscribeTicker('PETR4', 'B');
    await collect(connector, (ev) => ev.some((e) => e.kind === 'tickerState'), 'the subscription snapshot');
    await sleep(10);
    connector.drain();
    const before = s.stats();
    const droppedBefore = connector.dropped();
    s.burst(50_000);
    await s.waitBurst();
    const after = s.stats();
    let drained = 0;
    let trades = 0;
    for (let batch = connector.drain(); batch.length > 0; batch = connector.drain()) {
      drained += batch.length;
      trades += tradesOf(batch).length;
    }
    const dropped = Number(connector.dropped() - droppedBefore);
    expect(after.trades - before.trades).toBe(50_000);
    expect(after.callbacks - before.callbacks).toBe(50_000); // nothing but the burst called back
    expect(trades).toBe(drained);
    expect(drained).toBe(16384);
    expect(drained + dropped).toBe(50_000);
  });

  it('rejects a ring capacity that is not a power of two of at least 16384', () => {
    expect(() => ProfitConnector.open({ ...defaultLibraryPaths(), ringCapacity: 1000 })).toThrow(
      /power of two/,
    );
    expect(() => ProfitConnector.open({ ...defaultLibraryPaths(), ringCapacity: 20000 })).toThrow(
      /power of two/,
    );
    expect(() => ProfitConnector.open({ libraryPath: '/nope/ProfitDLL64.dll' })).toThrow(/PROFITDLL_PATH/);
  });
});

describe('waiting for events', () => {
  it('times out when nothing arrives, ends at once on wake(), and returns as soon as the DLL delivers', async () => {
    const { connector } = await connect();
    connector.drain();
    let t0 = performance.now();
    expect(await connector.waitForEvents(60)).toBe(false);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(50);

    t0 = performance.now();
    const woken = connector.waitForEvents(5_000);
    setTimeout(() => connector.wake(), 20);
    expect(await woken).toBe(false);
    expect(performance.now() - t0).toBeLessThan(1_000);

    connector.subscribeTicker('PETR4', 'B');
    connector.drain();
    const s = connector.sim;
    if (!s) throw new Error('simulator required');
    t0 = performance.now();
    const ready = connector.waitForEvents(5_000);
    setTimeout(() => s.burst(1), 30);
    expect(await ready).toBe(true);
    expect(performance.now() - t0).toBeLessThan(1_000);
    // Whatever woke it (the subscription's first callbacks or the burst's trade) is there to
    // drain; the burst's trade is in it or follows it.
    const woke = connector.drain();
    expect(woke.length).toBeGreaterThan(0);
    if (tradesOf(woke).length === 0)
      await collect(connector, (ev) => tradesOf(ev).length > 0, 'the burst trade');
  });
});
