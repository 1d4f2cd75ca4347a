import { barStart, mergeCandles, TIMEFRAMES, type Timeframe } from '../../sync-server/shared/candles.ts';
import { B3_UTC_OFFSET_MS, type Candle } from '../../sync-server/shared/market.ts';

// The chart's bars: what it asks the server for, how the live 1-minute candles fold into the
// forming bar of its timeframe, and the time the chart library is given.

const DAY_MS = 86_400_000;

/** B3 days of history each timeframe shows: the session on 1m, weeks on 60m, the stored days on 1D. */
export const DAYS_SHOWN: Readonly<Record<Timeframe, number>> = {
  '1m': 1,
  '5m': 5,
  '15m': 10,
  '60m': 30,
  // Ticks are kept 400 days (docs/operations.md).
  '1D': 400,
};

/**
 * The one request a timeframe makes: from Brasília midnight of the first day shown, to a day
 * past `now` (the exchange's clock may run ahead of this device's).
 */
export function historyWindow(tf: Timeframe, now: number): { from: number; to: number } {
  const today = barStart(now, TIMEFRAMES['1D']);
  return { from: today - (DAYS_SHOWN[tf] - 1) * DAY_MS, to: today + 2 * DAY_MS };
}

export const candlesUrl = (ticker: string, tf: Timeframe, now: number) => {
  const { from, to } = historyWindow(tf, now);
  return `/api/v1/market/candles?ticker=${encodeURIComponent(ticker)}&tf=${tf}&from=${from}&to=${to}`;
};

/**
 * The time the chart library is given for a bar: it labels its axis in UTC, so the bar's start
 * moves by Brasília's offset and reads as Brasília time on any device.
 */
export const chartTime = (ms: number) => (ms + B3_UTC_OFFSET_MS) / 1000;
/** The bar's start (ms since the epoch) back from a chart time. */
export const fromChartTime = (s: number) => s * 1000 - B3_UTC_OFFSET_MS;

/**
 * The forming bar of a timeframe as the live 1-minute candles come: the history's part of it
 * (what the server answered), the minutes of it that are over, and the minute forming now.
 * Each live candle is its minute so far (the channel sends it whole each time), so a minute's
 * later candle replaces its earlier one; a candle before `liveFrom` is in the history already.
 */
export class LiveFold {
  private readonly seconds: number;
  /** The tf bar without the current minute: the history's part and the minutes that are over. */
  private base: Candle | undefined;
  private minute = Number.NEGATIVE_INFINITY;
  private forming: Candle | undefined;

  constructor(
    tf: Timeframe,
    /** The history's last bar, which the live minutes may add to. */
    last: Candle | undefined,
    /** The answer's `liveFrom`: the first minute the history left to the channel. */
    private readonly liveFrom: number | null,
  ) {
    this.seconds = TIMEFRAMES[tf];
    this.forming = last;
  }

  /** The forming bar once `c` is in, or undefined when `c` changes nothing (an older minute). */
  apply(c: Candle): Candle | undefined {
    if (this.liveFrom !== null && c.time < this.liveFrom) return undefined;
    if (c.time < this.minute) return undefined;
    if (c.time > this.minute) {
      this.base = this.forming; // the minute before is over (or it is the history's bar)
      this.minute = c.time;
    }
    const bar = barStart(c.time, this.seconds);
    if (this.base && this.base.time > bar) return undefined;
    const own = { ...c, time: bar };
    this.forming = this.base?.time === bar ? mergeCandles(this.base, own) : own;
    return this.forming;
  }
}
