import { applyTrades, type DayStats, type Quote, type Trade, withDay } from '../shared/market.ts';

/**
 * Last-trade state per ticker: what a new subscriber sees first. It starts from the session's
 * stored trades (`seed`, at start-up), folds each new trade in, and is completed by the
 * exchange's figures for the day (open, range, volume, limits).
 */
export class QuoteBoard {
  private readonly quotes = new Map<string, Quote>();
  private readonly days = new Map<string, DayStats>();

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

  get(ticker: string): Quote | undefined {
    const q = this.quotes.get(ticker);
    return q && withDay(q, this.days.get(ticker));
  }
}
