import { applyTrades, type Quote, type Trade } from './protocol.ts';

/** Last-trade state per ticker: what a new subscriber sees first. */
export class QuoteBoard {
  private readonly quotes = new Map<string, Quote>();

  apply(ticker: string, exchange: string, trades: readonly Trade[]) {
    const q = applyTrades(this.quotes.get(ticker), exchange, trades);
    if (q) this.quotes.set(ticker, q);
  }

  get(ticker: string): Quote | undefined {
    return this.quotes.get(ticker);
  }
}
