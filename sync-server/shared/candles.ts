import { B3_UTC_OFFSET_MS, type Candle, type Trade } from './market.ts';

// Candle history as the server answers it (GET /api/v1/market/candles) and the app draws it: the
// timeframes, where a bar starts, and the one fold of trades and bars both sides run.

/** Bar widths in seconds, as the route's `tf` names them (Profit's names: 60m, 1D). */
export const TIMEFRAMES = { '1m': 60, '5m': 300, '15m': 900, '60m': 3600, '1D': 86_400 } as const;
export type Timeframe = keyof typeof TIMEFRAMES;
export const TIMEFRAME_NAMES = Object.keys(TIMEFRAMES) as Timeframe[];
/** At most this many bars per request: the route refuses a wider range, the app asks within it. */
export const MAX_CANDLES = 10_000;

/**
 * The start of the bar holding `time`, ms since the epoch. Bars are aligned on Brasília midnight,
 * so a 1D bar is one B3 session day and a 60m bar starts on a Brasília hour (B3 opens at 10:00).
 * The database's `date_bin` uses the same origin (store/ticks.ts).
 */
export function barStart(time: number, seconds: number): number {
  const width = seconds * 1000;
  return Math.floor((time + B3_UTC_OFFSET_MS) / width) * width - B3_UTC_OFFSET_MS;
}

/** `later`'s trades added to `earlier`'s (same bar): the open of the first, the close of the last. */
export const mergeCandles = (earlier: Candle, later: Candle): Candle => ({
  time: earlier.time,
  open: earlier.open,
  high: Math.max(earlier.high, later.high),
  low: Math.min(earlier.low, later.low),
  close: later.close,
  volume: earlier.volume + later.volume,
  trades: earlier.trades + later.trades,
});

/**
 * Bars in time order with `trades` (in seq order, each after everything in `bars`) folded in:
 * the last bar grows while a trade falls in it, a new bar starts after it. Returns a new list.
 */
export function foldTrades(bars: readonly Candle[], trades: readonly Trade[], seconds: number): Candle[] {
  const out = bars.slice();
  for (const t of trades) {
    const time = barStart(t.time, seconds);
    const one = {
      time,
      open: t.price,
      high: t.price,
      low: t.price,
      close: t.price,
      volume: t.qty,
      trades: 1,
    };
    const last = out.at(-1);
    if (last && last.time === time) out[out.length - 1] = mergeCandles(last, one);
    else if (!last || last.time < time) out.push(one);
    // A trade behind the last bar (an exchange correction out of order) joins its own bar.
    else {
      const i = out.findIndex((b) => b.time >= time);
      const at = out[i] as Candle;
      if (at.time === time) out[i] = mergeCandles(at, { ...one, open: at.open, close: at.close });
      else out.splice(i, 0, one);
    }
  }
  return out;
}

/** GET /api/v1/market/candles's answer. */
export interface CandlesJson {
  readonly ticker: string;
  readonly tf: Timeframe;
  /** Bars in time order, `time` the bar's start (ms since the epoch). */
  readonly candles: Candle[];
  /**
   * The start of the server's forming 1-minute live candle when it answered, or null when it had
   * none. The answer leaves out that candle's trades: a client adds the live candles channel's
   * bars from this minute on (the first one whole), so no trade is counted twice or missed.
   */
  readonly liveFrom: number | null;
}
