import { b3Day, type Candle } from '../../sync-server/shared/market.ts';

// The chart's studies over its bars: simple moving averages of the closes and the session VWAP
// (Σ typical price × volume / Σ volume, from each B3 day's first bar). Recomputed once when the
// history comes, then only the forming bar's values as live candles fold into it, with the very
// sums the whole computation makes, so an update equals the recomputation exactly.

/** The SMA of `closes` over `period` bars at each index; undefined before the first full window. */
export function sma(closes: readonly number[], period: number): (number | undefined)[] {
  return closes.map((_, i) => smaAt(closes, period, i));
}

function smaAt(closes: readonly number[], period: number, i: number): number | undefined {
  if (i + 1 < period) return undefined;
  let sum = 0;
  for (let j = i + 1 - period; j <= i; j++) sum += closes[j] as number;
  return sum / period;
}

/** A bar's typical price, what it weighs into the VWAP: its trades' average is not in a bar. */
export const typical = (b: Candle) => (b.high + b.low + b.close) / 3;

/** The session VWAP at each bar: it starts again with each B3 day's first bar. */
export function vwap(bars: readonly Candle[]): number[] {
  const out: number[] = [];
  let day = Number.NaN;
  let pv = 0;
  let v = 0;
  for (const b of bars) {
    if (b3Day(b.time) !== day) {
      day = b3Day(b.time);
      pv = 0;
      v = 0;
    }
    pv += typical(b) * b.volume;
    v += b.volume;
    out.push(v > 0 ? pv / v : typical(b));
  }
  return out;
}

export interface StudyValues {
  readonly vwap: number;
  /** One per period asked, undefined before its first full window. */
  readonly ma: readonly (number | undefined)[];
}

/**
 * The bars and their studies, kept up to date bar by bar: `set` computes everything once, `fold`
 * replaces the forming (last) bar or starts a new one and computes only that bar's values.
 */
export class Studies {
  private bars: Candle[] = [];
  private closes: number[] = [];
  private values: StudyValues[] = [];
  /** The VWAP's sums through the bar before the last, of the last bar's day. */
  private before = { day: Number.NaN, pv: 0, v: 0 };

  constructor(private readonly periods: readonly number[]) {}

  get length(): number {
    return this.bars.length;
  }

  bar(i: number): Candle | undefined {
    return this.bars[i];
  }

  /** Every bar, oldest first (the studies' own list: read, never change it). */
  all(): readonly Candle[] {
    return this.bars;
  }

  at(i: number): StudyValues | undefined {
    return this.values[i];
  }

  /** All the bars at once (history): every value computed. */
  set(bars: readonly Candle[]): void {
    this.bars = bars.slice();
    this.closes = bars.map((b) => b.close);
    const w = vwap(bars);
    const mas = this.periods.map((p) => sma(this.closes, p));
    this.values = bars.map((_, i) => ({ vwap: w[i] as number, ma: mas.map((m) => m[i]) }));
    this.before = { day: Number.NaN, pv: 0, v: 0 };
    // The sums before the last bar, for the updates to come.
    for (const b of bars.slice(0, -1)) this.addToBefore(b);
  }

  /**
   * The forming bar as it now stands: the last bar again (same time) or a new one after it.
   * Returns its values; a bar before the last is refused (undefined): the chart only moves on.
   */
  fold(bar: Candle): StudyValues | undefined {
    const last = this.bars.at(-1);
    if (last && bar.time < last.time) return undefined;
    if (last && bar.time > last.time) {
      this.addToBefore(last);
      this.bars.push(bar);
      this.closes.push(bar.close);
    } else if (last) {
      this.bars[this.bars.length - 1] = bar;
      this.closes[this.closes.length - 1] = bar.close;
    } else {
      this.bars.push(bar);
      this.closes.push(bar.close);
    }
    const i = this.bars.length - 1;
    const day = b3Day(bar.time);
    const { pv, v } = this.before.day === day ? this.before : { pv: 0, v: 0 };
    const sumPv = pv + typical(bar) * bar.volume;
    const sumV = v + bar.volume;
    const values = {
      vwap: sumV > 0 ? sumPv / sumV : typical(bar),
      ma: this.periods.map((p) => smaAt(this.closes, p, i)),
    };
    this.values[i] = values;
    return values;
  }

  private addToBefore(b: Candle) {
    const day = b3Day(b.time);
    if (this.before.day !== day) this.before = { day, pv: 0, v: 0 };
    this.before.pv += typical(b) * b.volume;
    this.before.v += b.volume;
  }
}
