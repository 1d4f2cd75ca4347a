import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { applyTrades, type Trade } from '../../sync-server/shared/market.ts';
import { useBook } from './book.ts';
import { tradeTape, useMarket } from './market.ts';

// The queue between the feed and the screen: one store update per animation frame.

const trade = (seq: number, price: number, ticker = 'PETR4'): Trade => {
  const ids = { seq, time: seq, tradeNumber: seq, capturedAt: seq };
  return { ticker, price, qty: 100, buyAgent: 1, sellAgent: 2, tradeType: 1, flags: 0, ...ids };
};

let frames: Array<() => void> = [];
let visibilityState: 'visible' | 'hidden' = 'visible';
let updates = 0;
let unsubscribe = () => {};

beforeEach(() => {
  frames = [];
  visibilityState = 'visible';
  vi.useFakeTimers();
  vi.stubGlobal('document', {
    get visibilityState() {
      return visibilityState;
    },
  });
  vi.stubGlobal('requestAnimationFrame', (f: () => void) => frames.push(f));
  useMarket.setState({ quotes: {}, days: {} });
  updates = 0;
  unsubscribe = useMarket.subscribe(() => updates++);
});
afterEach(() => {
  unsubscribe();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

const runFrames = () => {
  const due = frames;
  frames = [];
  for (const f of due) f();
};

describe('useMarket.queueTrades', () => {
  it('applies every ticker queued within a frame in one store update at the frame', () => {
    const { queueTrades } = useMarket.getState();
    queueTrades('PETR4', [trade(1, 38.5)]);
    queueTrades('VALE3', [trade(1, 61, 'VALE3')]);
    queueTrades('PETR4', [trade(2, 38.6)]);
    expect(updates).toBe(0);
    expect(frames).toHaveLength(1);
    runFrames();
    expect(updates).toBe(1);
    const { quotes } = useMarket.getState();
    expect(quotes.PETR4).toMatchObject({ last: 38.6, trades: 2 });
    expect(quotes.VALE3).toMatchObject({ last: 61, trades: 1 });
  });

  it('applies them every 250 ms while the tab is hidden', () => {
    visibilityState = 'hidden';
    useMarket.getState().queueTrades('PETR4', [trade(1, 38.5)]);
    expect(frames).toHaveLength(0);
    vi.advanceTimersByTime(249);
    expect(updates).toBe(0);
    vi.advanceTimersByTime(1);
    expect(updates).toBe(1);
    expect(useMarket.getState().quotes.PETR4?.trades).toBe(1);
  });

  it('applies the queued trades before a snapshot, which supersedes them', () => {
    const s = useMarket.getState();
    s.queueTrades('PETR4', [trade(1, 38.5)]);
    const later = applyTrades(undefined, 'B', [trade(6, 40), trade(7, 40)]);
    s.snapshot(later ? [later] : []);
    expect(useMarket.getState().quotes.PETR4).toMatchObject({ last: 40, trades: 2 });
    runFrames();
    expect(useMarket.getState().quotes.PETR4).toMatchObject({ last: 40, trades: 2 });
  });

  it("keeps each ticker's trades on its tape in the same one update, newest first", () => {
    const { queueTrades } = useMarket.getState();
    const before = useMarket.getState().tapeVersion.ITUB4 ?? 0;
    const seen: number[] = [];
    const off = useMarket.subscribe((s) => seen.push(s.tapeVersion.ITUB4 ?? 0));
    queueTrades('ITUB4', [trade(1, 30, 'ITUB4'), trade(2, 30.01, 'ITUB4')]);
    queueTrades('ITUB4', [trade(3, 30.02, 'ITUB4')]);
    expect(tradeTape('ITUB4')).toBeUndefined();
    runFrames();
    off();
    expect(updates).toBe(1);
    expect(seen).toEqual([before + 1]);
    const tape = tradeTape('ITUB4');
    expect([0, 1, 2].map((i) => tape?.at(i)?.seq)).toEqual([3, 2, 1]);
    expect(tradeTape('BBDC4')).toBeUndefined();
  });
});

describe('one animation frame for every store', () => {
  it('applies the trades, tops, candles and books queued between two frames in one callback', () => {
    const s = useMarket.getState();
    s.queueTrades('PETR4', [trade(1, 38.5)]);
    s.queueTop('PETR4', { bid: 38.4, bidQty: 100, ask: 38.6, askQty: 200 });
    s.queueCandle('PETR4', {
      time: 0,
      open: 38.5,
      high: 38.5,
      low: 38.5,
      close: 38.5,
      volume: 100,
      trades: 1,
    });
    useBook.getState().queue({
      version: 1,
      kind: 2,
      flags: 0,
      ticker: 'PETR4',
      bookVersion: 1,
      time: 0,
      bids: [{ price: 38.4, qty: 100, count: 1 }],
      asks: [],
    });
    // One callback, so React renders what the four changed once, not once per store.
    expect(frames).toHaveLength(1);
    runFrames();
    expect(useMarket.getState().quotes.PETR4?.last).toBe(38.5);
    expect(useMarket.getState().tops.PETR4?.ask).toBe(38.6);
    expect(useMarket.getState().liveCandles.PETR4?.close).toBe(38.5);
    expect(useBook.getState().books.PETR4?.bids).toHaveLength(1);
  });

  it('applies a bar that closed between two frames in its final form, then the new one', () => {
    const bar = (time: number, close: number) => ({
      time,
      open: 1,
      high: close,
      low: 1,
      close,
      volume: 1,
      trades: 1,
    });
    const seen: Array<[number, number]> = [];
    const off = useMarket.subscribe((st, prev) => {
      const c = st.liveCandles.WEGE3;
      if (c && c !== prev.liveCandles.WEGE3) seen.push([c.time, c.close]);
    });
    const { queueCandle } = useMarket.getState();
    queueCandle('WEGE3', bar(60_000, 2));
    queueCandle('WEGE3', bar(60_000, 3));
    queueCandle('WEGE3', bar(120_000, 4));
    expect(seen).toEqual([]);
    runFrames();
    off();
    expect(seen).toEqual([
      [60_000, 3],
      [120_000, 4],
    ]);
  });
});
