import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NL } from './errors.ts';
import { defaultLibraryPaths, ProfitConnector } from './profitdll.ts';
import type { RawEvent } from './records.ts';
import {
  collect,
  connectSimulator,
  dllCode,
  INSTRUMENTS,
  SIM_LIBRARIES,
  sleep,
  type Ticker,
  type TradeEvent,
} from './testkit.ts';
import type { SimControls } from './types.ts';

// GetHistoryTrades through the real binding and simulator (native/sim/history.c): the DLL's
// refusals, a past day's deterministic session, and today's history meeting the live trades.

const DAY_MS = 86_400_000;
const B3_MS = 3 * 3_600_000;
const MONDAY = '2025-06-02';
/** A Brasília wall-clock time ('2025-06-02T10:00:00') as a Date. */
const b3 = (wall: string) => new Date(`${wall}-03:00`);
const wholeDay = (day: string) => [b3(`${day}T00:00:00`), b3(`${day}T23:59:59`)] as const;

const DATE = /^(\d{2})\/(\d{2})\/(\d{4}) (\d{2}):(\d{2}):(\d{2})\.(\d{3})$/;
/** A DLL date (DD/MM/YYYY HH:MM:SS.ZZZ, Brasília) as ms of that wall clock read as UTC. */
function wallMs(date: string): number {
  const m = DATE.exec(date);
  if (!m) return Number.NaN;
  const [d, mo, y, h, mi, s, ms] = m.slice(1).map(Number) as number[];
  return Date.UTC(y as number, (mo as number) - 1, d, h, mi, s, ms);
}
const timeOfDay = (date: string) => wallMs(date) % DAY_MS;

type Spec = { exchange: string; tick: number; lot: number; price: number };
/** Trades in a whole session (history.c): round-lot stocks, futures. */
const SESSION_TRADES = { B: [5000, 8000], F: [30000, 50000] } as const;

const historyOf = (events: RawEvent[], ticker: string) =>
  events.filter((e): e is TradeEvent => e.kind === 'trade' && e.history && e.ticker === ticker);
const liveOf = (events: RawEvent[], ticker: string) =>
  events.filter((e): e is TradeEvent => e.kind === 'trade' && !e.history && e.ticker === ticker);
const progressOf = (events: RawEvent[], ticker: string) =>
  events.flatMap((e) => (e.kind === 'progress' && e.ticker === ticker ? [e.progress] : []));
const ended =
  (ticker: string, times = 1) =>
  (events: RawEvent[]) =>
    progressOf(events, ticker).filter((p) => p === 100).length >= times;
/** One trade as a line, to compare answers whole. */
const line = (t: TradeEvent) =>
  `${t.tradeNumber} ${t.date} ${t.price} ${t.qty} ${t.volume} ${t.buyAgent} ${t.sellAgent} ${t.tradeType}`;

/** Asks for a range and drains until its progress of 100; the events of the answer. */
async function ask(c: ProfitConnector, ticker: string, exchange: string, from: Date, to: Date) {
  c.historyTrades(ticker, exchange, from, to);
  return collect(c, ended(ticker), `the history of ${ticker}`);
}

const onGrid = (price: number, tick: number) => Math.abs(price / tick - Math.round(price / tick)) < 1e-9;

/** What is wrong with a day's answer (the first few), [] when nothing. */
function problems(trades: TradeEvent[], spec: Spec, day: string, agents: Set<number>): string[] {
  const found: string[] = [];
  const dayMs = Date.parse(`${day}T00:00:00Z`);
  let last = -1;
  trades.forEach((t, i) => {
    const wall = wallMs(t.date);
    const why = [
      t.tradeNumber !== i + 1 && `number ${t.tradeNumber} at ${i}`,
      !(wall >= dayMs + 10 * 3_600_000 && wall < dayMs + 18 * 3_600_000) && `time ${t.date}`,
      wall < last && `${t.date} before the trade ahead of it`,
      !onGrid(t.price, spec.tick) && `price ${t.price} off the grid`,
      !(Math.abs(t.price - spec.price) <= spec.price * 0.05 + spec.tick) &&
        `price ${t.price} far from ${spec.price}`,
      !(t.qty > 0 && t.qty % spec.lot === 0) && `qty ${t.qty}`,
      t.volume !== t.price * t.qty && `volume ${t.volume}`,
      !(agents.has(t.buyAgent) && agents.has(t.sellAgent)) && `agents ${t.buyAgent}/${t.sellAgent}`,
      ![1, 2, 3].includes(t.tradeType) && `trade type ${t.tradeType}`,
      (t.isEdit || t.truncated || t.feed !== 0) && 'flags',
    ].filter(Boolean);
    if (why.length > 0 && found.length < 5) found.push(`#${i} ${line(t)}: ${why.join(', ')}`);
    last = wall;
  });
  return found;
}

/** The progress reports of an answer rise to exactly one 100, which follows its last trade. */
function expectProgress(events: RawEvent[], ticker: string) {
  const progress = progressOf(events, ticker);
  expect(progress.at(-1)).toBe(100);
  expect(progress.filter((p) => p === 100)).toHaveLength(1);
  for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThan(progress[i - 1] as number);
  expect(progress.every((p) => p >= 0 && p <= 100)).toBe(true);
  const end = events.findIndex((e) => e.kind === 'progress' && e.ticker === ticker && e.progress === 100);
  const lastTrade = events.findLastIndex((e) => e.kind === 'trade' && e.history && e.ticker === ticker);
  expect(lastTrade).toBeLessThan(end);
}

describe('refusals', () => {
  let c: ProfitConnector | undefined;
  afterEach(() => {
    c?.finalize();
    c = undefined;
  });

  it('before a login NL_NOT_INITIALIZED; after a refused login NL_NO_LOGIN or NL_NO_LICENSE', async () => {
    const connector = ProfitConnector.open(defaultLibraryPaths());
    c = connector;
    const asked = () => connector.historyTrades('PETR4', 'B', ...wholeDay(MONDAY));
    expect(dllCode(asked)).toBe('NL_NOT_INITIALIZED');
    connector.login('key', 'tape', 'wrong');
    await collect(connector, (ev) => ev.some((e) => e.kind === 'state' && e.result === 2), 'LOGIN 2');
    expect(dllCode(asked)).toBe('NL_NO_LOGIN');
    connector.finalize();
    connector.login('invalid', 'tape', 'secret');
    await collect(
      connector,
      (ev) => ev.some((e) => e.kind === 'state' && e.connType === 2 && e.result === 3),
      'market not logged',
    );
    expect(dllCode(asked)).toBe('NL_NO_LICENSE');
  });

  it('names a bad ticker, exchange, order of dates or range length', async () => {
    const { connector } = await connectSimulator();
    c = connector;
    const code = (ticker: string, exchange: string, from: Date, to: Date) =>
      dllCode(() => connector.historyTrades(ticker, exchange, from, to));
    const [from, to] = wholeDay(MONDAY);
    expect(code('', 'B', from, to)).toBe('NL_INVALID_ARGS');
    expect(code('PETR4', '', from, to)).toBe('NL_INVALID_ARGS');
    expect(code('NOPE3', 'B', from, to)).toBe('NL_INVALID_TICKER');
    expect(code('PETR4', 'Q', from, to)).toBe('NL_EXCHANGE_UNKNOWN');
    expect(code('PETR4', 'B', to, from)).toBe('NL_INVALID_ARGS');
    expect(code('PETR4', 'B', from, new Date(Number.NaN))).toMatch(/RangeError: historyTrades: to/);
    // Years before 1970, or past the four digits of the DLL's format.
    const y1969 = [new Date('1969-12-30T12:00:00Z'), new Date('1969-12-31T12:00:00Z')] as const;
    expect(code('PETR4', 'B', ...y1969)).toBe('NL_INVALID_ARGS');
    const y10000 = [new Date('+010000-01-01T12:00:00Z'), new Date('+010000-01-02T12:00:00Z')] as const;
    expect(code('PETR4', 'B', ...y10000)).toBe('NL_INVALID_ARGS');
    // The longest ranges: a day on F, five days elsewhere (dtEnd's second included or not, alike).
    const day = b3(`${MONDAY}T00:00:00`).getTime();
    expect(code('WINZ25', 'F', new Date(day), new Date(day + DAY_MS))).toBe('no error');
    expect(code('WINZ25', 'F', new Date(day), new Date(day + DAY_MS + 1000))).toBe('NL_OUT_OF_RANGE');
    expect(code('PETR4', 'B', new Date(day), new Date(day + 5 * DAY_MS))).toBe('no error');
    expect(code('PETR4', 'B', new Date(day), new Date(day + 5 * DAY_MS + 1000))).toBe('NL_OUT_OF_RANGE');
    expect(code('PETR4', 'B', new Date(day), new Date(day))).toBe('no error');
    await collect(connector, (ev) => ended('WINZ25')(ev) && ended('PETR4', 2)(ev), 'the answers');
  });

  it('holds 64 requests at a time, refuses one more with NL_OUT_OF_RANGE, and forgets them at finalize', async () => {
    const first = await connectSimulator();
    c = first.connector;
    c.subscribeTicker('WINZ25', 'F'); // a day of futures takes the first request ~80 ms to send
    const asked = Array.from({ length: 65 }, () =>
      dllCode(() => c?.historyTrades('WINZ25', 'F', ...wholeDay(MONDAY))),
    );
    expect(asked.slice(0, 64)).toEqual(Array(64).fill('no error'));
    expect(asked[64]).toBe('NL_OUT_OF_RANGE');
    c.finalize();
    const { connector } = await connectSimulator();
    c = connector;
    await sleep(100);
    expect(connector.drain().filter((e) => e.kind === 'trade' || e.kind === 'progress')).toEqual([]);
  });

  it('takes exactly the dates DD/MM/YYYY HH:MM:SS that exist, and refuses anything else', async () => {
    const { connector } = await connectSimulator();
    c = connector;
    // Strings a Date never formats to.
    const raw = (connector.sim as SimControls).historyTradesText;
    const p2 = (n: number) => String(n).padStart(2, '0');
    const format = (d: Date) =>
      `${p2(d.getUTCDate())}/${p2(d.getUTCMonth() + 1)}/${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
    /** The reference: what the DLL's format allows (years from 1970). koffi ends a string at NUL. */
    const valid = (text: string) => {
      const s = text.split('\0')[0] as string;
      const m = /^(\d{2})\/(\d{2})\/(\d{4}) (\d{2}):(\d{2}):(\d{2})$/.exec(s);
      if (!m) return false;
      const [d, mo, y, h, mi, sec] = m.slice(1).map(Number) as number[];
      const t = new Date(Date.UTC(y as number, (mo as number) - 1, d, h, mi, sec));
      return (
        (y as number) >= 1970 &&
        t.getUTCFullYear() === y &&
        t.getUTCMonth() === (mo as number) - 1 &&
        t.getUTCDate() === d &&
        (h as number) <= 23 &&
        (mi as number) <= 59 &&
        (sec as number) <= 59
      );
    };
    // A start the simulator reads is followed by an end far away (NL_OUT_OF_RANGE, or NL_OK for the
    // last days of 9999); one it does not read is NL_INVALID_ARGS. The same for an end after the
    // earliest start. So next to nothing is queued.
    const readsAs = (s: string, reads: boolean) => {
      const allowed = reads ? [NL.OUT_OF_RANGE, NL.OK] : [NL.INVALID_ARGS];
      expect(allowed, `start ${JSON.stringify(s)}`).toContain(raw('PETR4', 'B', s, '31/12/9999 23:59:59'));
      expect(allowed, `end ${JSON.stringify(s)}`).toContain(raw('PETR4', 'B', '01/01/1970 00:00:00', s));
    };
    for (const s of [
      '02/06/2025 10:00:00.000',
      '2/06/2025 10:00:00',
      '02/06/25 10:00:00',
      '02-06-2025 10:00:00',
      '02/06/2025T10:00:00',
      '02/06/2025 10:00',
      ' 02/06/2025 10:00:00',
      '31/06/2025 10:00:00',
      '29/02/2025 10:00:00',
      '00/06/2025 10:00:00',
      '02/13/2025 10:00:00',
      '02/06/2025 24:00:00',
      '02/06/2025 10:60:00',
      '02/06/2025 10:00:60',
      '31/12/1969 23:59:59',
      '０２/06/2025 10:00:00',
      '',
    ]) {
      expect(valid(s), s).toBe(false);
      readsAs(s, false);
    }
    for (const s of ['29/02/2024 10:00:00', '31/12/9998 23:59:59', '02/01/1970 00:00:00']) {
      expect(valid(s)).toBe(true);
      readsAs(s, true);
    }
    const aDate = fc
      .date({
        min: new Date('1971-01-01T00:00:00Z'),
        max: new Date('9990-12-31T23:59:59Z'),
        noInvalidDate: true,
      })
      .map(format);
    // Every field just inside and outside its range.
    const p = (n: number, w: number) => String(n).padStart(w, '0');
    const fields = fc
      .tuple(
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 1960, max: 9999 }),
        fc.integer({ min: 0, max: 24 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 60 }),
      )
      .map(
        ([d, mo, y, h, mi, sec]) => `${p(d, 2)}/${p(mo, 2)}/${p(y, 4)} ${p(h, 2)}:${p(mi, 2)}:${p(sec, 2)}`,
      );
    const candidate = fc.oneof(
      aDate,
      fields,
      fc
        .tuple(aDate, fc.nat(18), fc.string({ maxLength: 2 }), fc.nat(2))
        .map(([s, at, text, cut]) => s.slice(0, at) + text + s.slice(at + cut)),
      fc.string({ maxLength: 24 }),
      fc.string({ maxLength: 24, unit: 'binary' }),
    );
    fc.assert(
      fc.property(candidate, (s) => readsAs(s, valid(s))),
      { numRuns: 2000 },
    );
    expect(raw('PETR4', 'B', null, '02/06/2025 10:00:00')).toBe(NL.INVALID_ARGS);
  });
});

// Through THistoryTradeCallback (V1-only library) and SetHistoryTradeCallbackV2 (full one).
describe.each(SIM_LIBRARIES)('a past day on the $api calls', ({ api }) => {
  let c: ProfitConnector;
  let sim: SimControls;
  const alone = new Map<string, RawEvent[]>(); // each ticker's answer for MONDAY, asked alone
  let agents: Set<number>;
  beforeAll(async () => {
    ({ connector: c } = await connectSimulator({ api }));
    sim = c.sim as SimControls;
    for (const [t, spec] of Object.entries(INSTRUMENTS))
      if (t !== 'ITUB4') c.subscribeTicker(t, spec.exchange);
    agents = new Set(
      Array.from({ length: 2000 }, (_, id) => id).filter((id) => c.agentName(id, true) !== undefined),
    );
  });
  afterAll(() => c?.finalize());

  it('is a session of thousands of trades numbered 1..N in time order, on the grid, in lots, by known brokers', async () => {
    expect(agents.size).toBe(15);
    let seen = 0;
    for (const ticker of ['PETR4', 'VALE3', 'BBDC4', 'WINZ25', 'WDOZ25'] as Ticker[]) {
      const spec = INSTRUMENTS[ticker];
      const events = await ask(c, ticker, spec.exchange, ...wholeDay(MONDAY));
      alone.set(ticker, events);
      const trades = historyOf(events, ticker);
      seen += trades.length;
      const [lo, hi] = SESSION_TRADES[spec.exchange];
      expect(trades.length, ticker).toBeGreaterThanOrEqual(lo);
      expect(trades.length, ticker).toBeLessThanOrEqual(hi);
      expect(problems(trades, spec, MONDAY, agents), ticker).toEqual([]);
      expect(timeOfDay(trades[0]?.date as string)).toBe(10 * 3_600_000); // the opening print
      expect(new Set(trades.map((t) => t.price)).size, `${ticker} moves`).toBeGreaterThan(10);
      expect(new Set(trades.map((t) => t.tradeType))).toEqual(new Set([1, 2, 3]));
      expectProgress(events, ticker);
      // V2 flags the answer's last trade (TC_LAST_PACKET); V1 has no flag, only the progress of 100.
      const last = trades.map((t) => t.lastPacket);
      expect(last, ticker).toEqual(trades.map((_, i) => api === 'v2' && i === trades.length - 1));
    }
    // Every trade the simulator called back with reached the ring and the decoder, through one generation.
    expect(sim.stats().historyTrades).toBe(seen);
    expect(sim.v2Stats().historyTrades).toBe(api === 'v2' ? seen : 0);
    expect(c.dropped()).toBe(0n);
  });

  it('is the same every time, whatever the live market did meanwhile', async () => {
    const first = historyOf(alone.get('PETR4') as RawEvent[], 'PETR4');
    // Pinned: another process, or a rebuild, must answer the same day.
    expect(first).toHaveLength(5450);
    expect(line(first[0] as TradeEvent)).toBe('1 02/06/2025 10:00:00.000 38.51 24800 955048 3 127 3');
    expect(line(first.at(-1) as TradeEvent)).toBe('5450 02/06/2025 17:59:59.608 38.62 600 23172 72 1982 3');
    sim.setRate(2000); // the live rng moves on
    await collect(c, (ev) => liveOf(ev, 'PETR4').length >= 50, 'live trades');
    sim.setRate(0);
    await sleep(20);
    const again = historyOf(await ask(c, 'PETR4', 'B', ...wholeDay(MONDAY)), 'PETR4');
    expect(again.map(line)).toEqual(first.map(line));
  });

  it('is another answer for another day or ticker, and nothing on a weekend or a day to come', async () => {
    const monday = historyOf(alone.get('PETR4') as RawEvent[], 'PETR4').map((t) => `${t.price} ${t.qty}`);
    const tuesday = historyOf(await ask(c, 'PETR4', 'B', ...wholeDay('2025-06-03')), 'PETR4');
    expect(tuesday.every((t) => t.date.startsWith('03/06/2025'))).toBe(true);
    expect(tuesday.map((t) => `${t.price} ${t.qty}`)).not.toEqual(monday);
    const bbdc = historyOf(alone.get('BBDC4') as RawEvent[], 'BBDC4');
    expect(bbdc.map((t) => `${t.qty} ${t.buyAgent}`)).not.toEqual(
      historyOf(alone.get('PETR4') as RawEvent[], 'PETR4').map((t) => `${t.qty} ${t.buyAgent}`),
    );
    for (const day of ['2025-06-07', '2025-06-08', '2100-06-01']) {
      const events = await ask(c, 'PETR4', 'B', ...wholeDay(day));
      expect(historyOf(events, 'PETR4'), day).toEqual([]);
      expect(progressOf(events, 'PETR4'), day).toEqual([100]);
    }
  });

  it('gives of a range the trades of its days inside it, by their numbers of the day', async () => {
    const day = historyOf(alone.get('PETR4') as RawEvent[], 'PETR4');
    const hour = historyOf(
      await ask(c, 'PETR4', 'B', b3(`${MONDAY}T12:00:00`), b3(`${MONDAY}T13:00:00`)),
      'PETR4',
    );
    const inside = day.filter(
      (t) => timeOfDay(t.date) >= 12 * 3_600_000 && timeOfDay(t.date) < 13 * 3_600_000 + 1000,
    );
    expect(hour.length).toBeGreaterThan(300);
    expect(hour.map(line)).toEqual(inside.map(line));
    // Friday to Monday: Friday's trades, none on the weekend, then Monday's from 1 again.
    const days = historyOf(
      await ask(c, 'PETR4', 'B', b3('2025-06-06T00:00:00'), b3('2025-06-09T23:59:59')),
      'PETR4',
    );
    const friday = historyOf(await ask(c, 'PETR4', 'B', ...wholeDay('2025-06-06')), 'PETR4');
    const nextMonday = historyOf(await ask(c, 'PETR4', 'B', ...wholeDay('2025-06-09')), 'PETR4');
    expect(days.map(line)).toEqual([...friday, ...nextMonday].map(line));
    expect(nextMonday[0]?.tradeNumber).toBe(1);
  });

  it('gives a ticker without SubscribeTicker only the progress of 100', async () => {
    const events = await ask(c, 'ITUB4', 'B', ...wholeDay(MONDAY));
    await sleep(30);
    events.push(...c.drain());
    expect(historyOf(events, 'ITUB4')).toEqual([]);
    expect(progressOf(events, 'ITUB4')).toEqual([100]);
  });

  it('answers several tickers at once, each as alone; a second ask of a ticker waits for the first', async () => {
    c.historyTrades('PETR4', 'B', ...wholeDay(MONDAY));
    c.historyTrades('WINZ25', 'F', ...wholeDay(MONDAY));
    c.historyTrades('VALE3', 'B', ...wholeDay(MONDAY));
    const events = await collect(
      c,
      (ev) => ended('PETR4')(ev) && ended('WINZ25')(ev) && ended('VALE3')(ev),
      'three answers',
    );
    for (const t of ['PETR4', 'WINZ25', 'VALE3']) {
      expect(historyOf(events, t).map(line), t).toEqual(historyOf(alone.get(t) as RawEvent[], t).map(line));
      expectProgress(events, t);
    }
    const firstWin = events.findIndex((e) => e.kind === 'trade' && e.ticker === 'WINZ25');
    const lastPetr = events.findLastIndex((e) => e.kind === 'trade' && e.ticker === 'PETR4');
    expect(firstWin).toBeLessThan(lastPetr); // in packets, side by side

    const day = historyOf(alone.get('PETR4') as RawEvent[], 'PETR4');
    const hour = day.filter((t) => timeOfDay(t.date) >= 12 * 3_600_000 && timeOfDay(t.date) < 13 * 3_600_000);
    const askHour = () => c.historyTrades('PETR4', 'B', b3(`${MONDAY}T12:00:00`), b3(`${MONDAY}T12:59:59`));
    const askDay = () => c.historyTrades('PETR4', 'B', ...wholeDay(MONDAY));
    /** The two answers, one after the other: the first's 100 between their trades. */
    const oneThenOther = (events: RawEvent[], first: TradeEvent[], second: TradeEvent[]) => {
      expect(historyOf(events, 'PETR4').map(line)).toEqual([...first, ...second].map(line));
      const firstEnd = events.findIndex(
        (e) => e.kind === 'progress' && e.ticker === 'PETR4' && e.progress === 100,
      );
      const trades = events.flatMap((e, i) => (e.kind === 'trade' && e.ticker === 'PETR4' ? [i] : []));
      expect(trades[first.length - 1]).toBeLessThan(firstEnd);
      expect(trades[first.length]).toBeGreaterThan(firstEnd);
    };
    askHour(); // asked together
    askDay();
    oneThenOther(await collect(c, ended('PETR4', 2), 'two answers of PETR4'), hour, day);
    askDay(); // the second while the first is being sent
    const started = await collect(c, (ev) => historyOf(ev, 'PETR4').length > 0, 'the first packet');
    askHour();
    // The first answer may have ended within the drain that found its first packet: count the
    // two ends over everything drained since the asks, not over the next drains alone.
    started.push(
      ...(await collect(c, (ev) => ended('PETR4', 2)([...started, ...ev]), 'two answers of PETR4')),
    );
    oneThenOther(started, day, hour);
  });
});

describe('today', () => {
  let c: ProfitConnector;
  let sim: SimControls;
  let listings = 0;
  beforeAll(async () => {
    ({ connector: c } = await connectSimulator());
    sim = c.sim as SimControls;
  });
  afterAll(() => {
    c?.sim?.setClock();
    c?.finalize();
  });

  /** A new listing (its live market not begun), with the clock at `wall` (B3) on a weekday. */
  function listing(futures: boolean, wall: number) {
    const spec: Spec = futures
      ? { exchange: 'F', tick: 5, lot: 1, price: 120_000 }
      : { exchange: 'B', tick: 0.01, lot: 100, price: 21.37 };
    const ticker = `HIST${++listings}${futures ? 'F' : ''}`;
    sim.addTicker(ticker, spec.exchange, spec.tick, spec.lot, spec.price);
    sim.setClock(new Date(wall + B3_MS));
    return { ticker, spec };
  }

  /** Subscribes, takes a few live trades, then (`laterMs` on) asks for the whole of today. */
  async function liveThenHistory(ticker: string, spec: Spec, dayMs: number, laterMs = 0) {
    c.subscribeTicker(ticker, spec.exchange);
    sim.setRate(1000);
    const events = await collect(c, (ev) => liveOf(ev, ticker).length >= 5, `live trades of ${ticker}`);
    sim.setRate(0);
    const live = liveOf(events, ticker);
    if (laterMs > 0) sim.setClock(new Date(wallMs((live.at(-1) as TradeEvent).date) + laterMs + B3_MS));
    c.historyTrades(ticker, spec.exchange, new Date(dayMs + B3_MS), new Date(dayMs + B3_MS + DAY_MS - 1000));
    events.push(...(await collect(c, ended(ticker), `today's history of ${ticker}`)));
    c.unsubscribeTicker(ticker, spec.exchange);
    return events;
  }

  it('ends where the live market began, and live numbers go on from N + 1 (any listing, any time of day)', async () => {
    const monday = Date.UTC(2024, 0, 1); // weekdays from here: week * 7 + 0..4
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.integer({ min: 0, max: 2000 }),
        fc.integer({ min: 8 * 3600, max: 19 * 3600 }),
        fc.integer({ min: 0, max: 3 * 3600 }),
        async (futures, weekday, second, later) => {
          const dayMs = monday + (Math.floor(weekday / 5) * 7 + (weekday % 5)) * DAY_MS;
          const wall = dayMs + second * 1000;
          const { ticker, spec } = listing(futures, wall);
          // Asked later in the day, today's history still ends where the live trades began.
          const events = await liveThenHistory(ticker, spec, dayMs, later * 1000);
          const history = historyOf(events, ticker);
          const live = liveOf(events, ticker);
          const n = history.length;
          // The clock the live trades print is the one set.
          const firstLive = wallMs((live[0] as TradeEvent).date);
          expect(firstLive - wall).toBeGreaterThanOrEqual(0);
          expect(firstLive - wall).toBeLessThan(5_000);
          if (second < 10 * 3600) expect(n).toBe(0);
          if (second > 10 * 3600) expect(n).toBeGreaterThan(0);
          expect(history.map((t) => t.tradeNumber)).toEqual(history.map((_, i) => i + 1));
          expect(live.map((t) => t.tradeNumber)).toEqual(live.map((_, i) => n + 1 + i));
          if (n > 0) expect(wallMs((history.at(-1) as TradeEvent).date)).toBeLessThan(firstLive);
          // The live market takes up the last price, and its day the history's statistics.
          const last = n > 0 ? (history.at(-1) as TradeEvent).price : spec.price;
          expect(Math.abs((live[0] as TradeEvent).price - last)).toBeLessThanOrEqual(spec.tick * 1.000001);
          const daily = events.find((e) => e.kind === 'daily' && e.ticker === ticker);
          expect(daily).toMatchObject({ trades: n, qty: history.reduce((q, t) => q + t.qty, 0) });
          if (n > 0)
            expect(daily).toMatchObject({
              open: history[0]?.price,
              close: last,
              high: Math.max(...history.map((t) => t.price)),
              low: Math.min(...history.map((t) => t.price)),
            });
          expectProgress(events, ticker);
        },
      ),
      { numRuns: 12 },
    );
  });

  it("is that day's history cut where the live market began, as a later day sees it", async () => {
    const day = Date.UTC(2025, 5, 4); // a Wednesday
    const { ticker, spec } = listing(false, day + 14.5 * 3_600_000);
    const today = historyOf(await liveThenHistory(ticker, spec, day), ticker);
    // A new session forgets where that live market began: the day is now whole, and past.
    c.finalize();
    ({ connector: c } = await connectSimulator());
    sim = c.sim as SimControls;
    sim.setClock(new Date(day + DAY_MS + 12 * 3_600_000 + B3_MS));
    c.subscribeTicker(ticker, spec.exchange);
    const whole = historyOf(
      await ask(c, ticker, spec.exchange, new Date(day + B3_MS), new Date(day + B3_MS + DAY_MS - 1000)),
      ticker,
    );
    expect(today.length).toBeGreaterThan(2000);
    expect(whole.length).toBeGreaterThan(today.length + 1000);
    expect(today.map(line)).toEqual(whole.slice(0, today.length).map(line));
    expect(timeOfDay((whole[today.length] as TradeEvent).date)).toBeGreaterThanOrEqual(14.5 * 3_600_000);
  });
});

describe('the test knobs', () => {
  let c: ProfitConnector;
  let sim: SimControls;
  beforeAll(async () => {
    ({ connector: c } = await connectSimulator());
    sim = c.sim as SimControls;
    c.subscribeTicker('PETR4', 'B');
    // Its live market begins on the connector's next step, at the clock of then: before the first
    // test moves the clock, or PETR4's day would end at the moved clock's 14:00 (history_resume).
    sim.setRate(1000);
    await collect(c, (ev) => liveOf(ev, 'PETR4').length > 0, 'PETR4 live');
    sim.setRate(0);
  });
  afterAll(() => {
    sim?.setHistoryTrades(0);
    sim?.failHistory(0, NL.OK);
    sim?.setClock();
    c?.finalize();
  });

  it('SimGetClock reads the clock SimSetClock set, running on', async () => {
    expect(Math.abs(sim.clock() - Date.now())).toBeLessThan(50);
    const at = Date.UTC(2025, 5, 2, 17, 0, 0);
    sim.setClock(new Date(at));
    await sleep(20);
    expect(sim.clock() - at).toBeGreaterThanOrEqual(15);
    expect(sim.clock() - at).toBeLessThan(500);
    expect(c.clock()).toBeGreaterThanOrEqual(at);
    sim.setClock();
  });

  it('SimSetHistoryTrades makes a session that dense, the same every time; 0 goes back', async () => {
    sim.setHistoryTrades(50_000);
    const dense = historyOf(await ask(c, 'PETR4', 'B', ...wholeDay(MONDAY)), 'PETR4');
    expect(dense.length).toBeGreaterThan(48_000);
    expect(dense.length).toBeLessThan(52_000);
    expect(dense.map((t) => t.tradeNumber)).toEqual(dense.map((_, i) => i + 1));
    sim.setHistoryTrades(0);
    expect(historyOf(await ask(c, 'PETR4', 'B', ...wholeDay(MONDAY)), 'PETR4')).toHaveLength(5450);
  });

  it('SimSetHistoryFault fails the next requests with a code, or takes them and never answers', async () => {
    sim.failHistory(2, NL.WAITING_SERVER);
    const asked = () => dllCode(() => c.historyTrades('PETR4', 'B', ...wholeDay(MONDAY)));
    expect([asked(), asked()]).toEqual(['NL_WAITING_SERVER', 'NL_WAITING_SERVER']);
    // A malformed request is refused by its checks first, and does not use up a fault.
    sim.failHistory(1, NL.OK);
    expect(dllCode(() => c.historyTrades('PETR4', 'Q', ...wholeDay(MONDAY)))).toBe('NL_EXCHANGE_UNKNOWN');
    expect(asked()).toBe('no error'); // taken, and silent
    await sleep(100);
    expect(progressOf(c.drain(), 'PETR4')).toEqual([]);
    expect(historyOf(await ask(c, 'PETR4', 'B', ...wholeDay(MONDAY)), 'PETR4')).toHaveLength(5450);
  });
});
