import {
  applyTrades,
  b3Day,
  type DayStats,
  type Quote,
  type Top,
  type Trade,
  withDay,
} from '../shared/market.ts';

/** The part of a quote a watch of the trades reads (QuoteBoard.point). */
export type QuotePoint = Pick<Quote, 'last' | 'volume' | 'time' | 'previousClose'>;

/**
 * Last-trade state per ticker: what a new subscriber sees first. It starts from the session's
 * stored trades (`seed`, at start-up), folds each new trade in, and is completed by the
 * exchange's figures for the day (open, range, volume, limits).
 */
export class QuoteBoard {
  private readonly quotes = new Map<string, Quote>();
  private readonly days = new Map<string, DayStats>();
  private readonly tops = new Map<string, Top>();
  private readonly closes = new Map<string, number>();

  /** The quote the stored trades of the day make, before the first trade; never replaces one. */
  seed(q: Quote) {
    if (!this.quotes.has(q.ticker)) this.quotes.set(q.ticker, q);
  }

  apply(ticker: string, exchange: string, trades: readonly Trade[]) {
    const q = applyTrades(this.quotes.get(ticker), exchange, trades);
    if (q) this.quotes.set(ticker, q);
  }

  /** Keeps the day's figures; returns the ones they replace. */
  day(ticker: string, day: DayStats): DayStats | undefined {
    const before = this.days.get(ticker);
    this.days.set(ticker, day);
    return before;
  }

  /** Keeps the book's best bid and ask; false when they are the ones already kept. */
  top(ticker: string, top: Top): boolean {
    const before = this.tops.get(ticker);
    if (
      before &&
      before.bid === top.bid &&
      before.bidQty === top.bidQty &&
      before.ask === top.ask &&
      before.askQty === top.askQty
    )
      return false;
    this.tops.set(ticker, top);
    return true;
  }

  /** Keeps the previous session's close the DLL gave (GetLastDailyClose). */
  previousClose(ticker: string, close: number) {
    this.closes.set(ticker, close);
  }

  /**
   * What a watch of the trades reads of a quote (the last price, the day's volume as the exchange
   * counts it too, the time, the previous close), without building the whole quote: it runs on
   * every batch of a watched ticker.
   */
  point(ticker: string): QuotePoint | undefined {
    const q = this.quotes.get(ticker);
    if (!q) return undefined;
    const day = this.days.get(ticker);
    const close = this.closes.get(ticker);
    return {
      last: q.last,
      time: q.time,
      volume:
        day && day.open > 0 && b3Day(day.time) === b3Day(q.time) ? Math.max(q.volume, day.qty) : q.volume,
      previousClose: close !== undefined && b3Day(q.time) === b3Day(Date.now()) ? close : q.previousClose,
    };
  }

  get(ticker: string): Quote | undefined {
    const q = this.quotes.get(ticker);
    if (!q) return undefined;
    const top = this.tops.get(ticker);
    const previousClose = this.closes.get(ticker);
    return {
      ...withDay(q, this.days.get(ticker)),
      ...(top ? { top } : {}),
      // The DLL's close is of the session before today; a quote of an older day keeps its own.
      ...(previousClose !== undefined && b3Day(q.time) === b3Day(Date.now()) ? { previousClose } : {}),
    };
  }
}
