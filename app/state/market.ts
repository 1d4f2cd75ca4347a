import { create } from 'zustand';
import {
  applyTrades,
  type Candle,
  type ConnectorStatus,
  type DayStats,
  type InstrumentInfo,
  type Quote,
  type Top,
  type Trade,
  withDay,
} from '../../sync-server/shared/market.ts';

import type { LinkState } from '../market/feedClient.ts';
import { perFrame } from './frame.ts';
import { TradeRing } from './tradeRing.ts';

export type { LinkState };

/** The feed is delivering: what is on screen is current (a replay or conflation is catching up). */
export const isLive = (link: LinkState) => link === 'live' || link === 'replaying' || link === 'conflated';

export interface QuoteView extends Quote {
  /** Direction of the last change, for the flash. */
  readonly tick: 'up' | 'down' | 'flat';
  /** Local receipt time of the last update, to mark stale quotes. */
  readonly receivedAt: number;
}

interface MarketState {
  link: LinkState;
  since: number;
  /** Events still to come in a replay. */
  replaying: number;
  connector: ConnectorStatus | undefined;
  tickers: string[];
  quotes: Record<string, QuoteView>;
  setLink(link: LinkState, replaying?: number): void;
  setConnector(status: ConnectorStatus): void;
  /** Tickers on the feed with their trading rules, in the server's order. */
  instruments: Record<string, InstrumentInfo>;
  setInstruments(list: InstrumentInfo[]): void;
  snapshot(quotes: Quote[]): void;
  /** The exchange's figures for a ticker's day (open, range, volume, price limits). */
  days: Record<string, DayStats>;
  day(ticker: string, day: DayStats): void;
  /**
   * Per ticker, bumped by each update that added trades to its tape (`tradeTape`): what a
   * Times & Trades view selects, so it renders once per frame, and only for its ticker.
   */
  tapeVersion: Record<string, number>;
  /** Older trades for a ticker's tape (the trades route), under what it holds: no hole made. */
  olderTrades(ticker: string, trades: readonly Trade[]): void;
  /** Applies the trades received since the last frame, all tickers in one update. */
  trades(batch: ReadonlyMap<string, Trade[]>): void;
  /** Queues a frame's trades; all those queued are applied at the next animation frame (see queued). */
  queueTrades(ticker: string, trades: Trade[]): void;
  /** Applies the queued trades now. */
  flushTrades(): void;
  /** Quotes kept on this device from an earlier session: shown with their age, never as live. */
  restore(quotes: Array<Quote & { receivedAt: number }>): void;
  /** The book's best bid and ask per ticker (`top` messages, applied once per animation frame). */
  tops: Record<string, Top>;
  queueTop(ticker: string, top: Top): void;
  /** The previous session's close the server read from the DLL, into today's quote. */
  previousClose(ticker: string, close: number): void;
  /** The forming 1-minute candle per ticker, from the live candles channel. */
  liveCandles: Record<string, Candle>;
  candle(ticker: string, candle: Candle): void;
  /** Queues a live candle; applied at the next animation frame, each bar in its last form. */
  queueCandle(ticker: string, candle: Candle): void;
}

/**
 * Trades arrive in many small frames; the screen needs them once per frame. Queued (perFrame),
 * 1,000+ updates/s make one store update and one render per animation frame (every 250 ms while
 * the tab is hidden, so nothing piles up); the book's best prices and the live candles likewise.
 */
// The recent trades of each ticker, kept out of the store's state: copying 2,000 trades per frame
// to make a new state would cost more than the screen that shows 30 of them. `tapeVersion` says
// when one changed.
const tapes = new Map<string, TradeRing>();

/** A ticker's recent trades (the last 2,000, newest first); read it again when `tapeVersion` moves. */
export const tradeTape = (ticker: string): TradeRing | undefined => tapes.get(ticker);

export const useMarket = create<MarketState>((set, get) => {
  const queuedTrades = perFrame<Trade[]>((ready) => get().trades(ready));
  // Only the latest of a frame matters.
  const queuedTops = perFrame<Top>((ready) =>
    set((s) => ({ tops: { ...s.tops, ...Object.fromEntries(ready) } })),
  );
  // Per ticker, the frame's bars in order, each in its latest form: a bar that closed between two
  // frames is still applied in its final form before the next one.
  const queuedCandles = perFrame<Candle[]>((ready) => {
    for (const [t, list] of ready) for (const c of list) get().candle(t, c);
  });
  return {
    link: 'connecting',
    since: Date.now(),
    replaying: 0,
    connector: undefined,
    tickers: [],
    quotes: {},
    setLink: (link, replaying = 0) =>
      set((s) =>
        s.link === link && s.replaying === replaying
          ? s
          : { link, replaying, since: s.link === link ? s.since : Date.now() },
      ),
    setConnector: (connector) => set({ connector }),
    instruments: {},
    setInstruments: (list) =>
      set({
        tickers: list.map((i) => i.ticker),
        instruments: Object.fromEntries(list.map((i) => [i.ticker, i])),
      }),
    snapshot: (quotes) => {
      get().flushTrades(); // older trades first: a snapshot supersedes them
      set((s) => {
        const next = { ...s.quotes };
        const tops = { ...s.tops };
        for (const q of quotes) {
          next[q.ticker] = { ...q, tick: 'flat', receivedAt: Date.now() };
          if (q.top) tops[q.ticker] = q.top;
        }
        return { quotes: next, tops };
      });
    },
    days: {},
    day: (ticker, day) =>
      set((s) => {
        const q = s.quotes[ticker];
        return {
          days: { ...s.days, [ticker]: day },
          quotes: q ? { ...s.quotes, [ticker]: { ...q, ...withDay(q, day) } } : s.quotes,
        };
      }),
    restore: (rows) =>
      set((s) => {
        const next = { ...s.quotes };
        for (const q of rows) if (!next[q.ticker]) next[q.ticker] = { ...q, tick: 'flat' };
        return { quotes: next };
      }),
    tops: {},
    queueTop: (ticker, top) => {
      queuedTops.pending().set(ticker, top);
    },
    previousClose: (ticker, close) =>
      set((s) => {
        const q = s.quotes[ticker];
        return q && q.previousClose !== close
          ? { quotes: { ...s.quotes, [ticker]: { ...q, previousClose: close } } }
          : s;
      }),
    liveCandles: {},
    candle: (ticker, candle) => set((s) => ({ liveCandles: { ...s.liveCandles, [ticker]: candle } })),
    queueCandle: (ticker, candle) => {
      const queued = queuedCandles.pending();
      const bars = queued.get(ticker);
      if (!bars) queued.set(ticker, [candle]);
      else if (bars.at(-1)?.time === candle.time) bars[bars.length - 1] = candle;
      else bars.push(candle);
    },
    tapeVersion: {},
    trades: (batch) =>
      set((s) => {
        const quotes = { ...s.quotes };
        const tapeVersion = { ...s.tapeVersion };
        const receivedAt = Date.now();
        for (const [ticker, trades] of batch) {
          const tape = tapes.get(ticker) ?? new TradeRing();
          tapes.set(ticker, tape);
          tape.push(trades);
          tapeVersion[ticker] = (tapeVersion[ticker] ?? 0) + 1;
          const prev = quotes[ticker];
          const traded = applyTrades(prev, prev?.exchange ?? '', trades);
          if (!traded) continue;
          // Kept when a new session day starts the quote again, once that day's figures are in.
          const q = withDay(traded, s.days[ticker]);
          const before = prev?.last ?? q.last;
          const tick = q.last > before ? 'up' : q.last < before ? 'down' : (prev?.tick ?? 'flat');
          quotes[ticker] = { ...q, tick, receivedAt };
        }
        return { quotes, tapeVersion };
      }),
    olderTrades: (ticker, trades) => {
      const tape = tapes.get(ticker) ?? new TradeRing();
      tapes.set(ticker, tape);
      if (tape.older(trades) > 0)
        set((s) => ({ tapeVersion: { ...s.tapeVersion, [ticker]: (s.tapeVersion[ticker] ?? 0) + 1 } }));
    },
    queueTrades: (ticker, trades) => {
      const queued = queuedTrades.pending();
      const list = queued.get(ticker);
      if (list) list.push(...trades);
      else queued.set(ticker, trades.slice());
    },
    flushTrades: () => queuedTrades.flush(),
  };
});

/**
 * The exchange's price limits for a ticker's day, when it sets them (two scalar selections, so a
 * trade that leaves them as they are re-renders nothing).
 */
export function useDayLimits(ticker: string): { minLimit?: number; maxLimit?: number } {
  const minLimit = useMarket((s) => s.quotes[ticker]?.minLimit);
  const maxLimit = useMarket((s) => s.quotes[ticker]?.maxLimit);
  return { minLimit, maxLimit };
}
