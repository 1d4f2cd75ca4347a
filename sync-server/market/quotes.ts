import { applyTrades, type DayStats, type Quote, type Trade, withDay } from './protocol.ts';

/**
 * Last-trade state per ticker: what a new subscriber sees first. The trades since this process
 * started are completed by the exchange's figures for the day (open, range, volume, limits).
 */
export class QuoteBoard {
  private readonly quotes = new Map<string, Quote>();
  private readonly days = new Map<string, DayStats>();

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
