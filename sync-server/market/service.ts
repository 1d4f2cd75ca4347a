import type { Logger } from '../log.ts';
import type { NewDeadLetter } from '../store/deadLetters.ts';
import { BookError, PriceBook, type RawPriceBook } from './book.ts';
import type { DeadLetter, FeedSinks } from './feed.ts';
import { type Instrument, instrumentFor } from './instruments.ts';
import {
  BOOK_DEPTH,
  type Candle,
  type ConnectorStatus,
  encodeBook,
  encodeCandles,
  encodeTrades,
  FrameFlag,
  type InstrumentInfo,
  LIVE_CANDLE_SECONDS,
  type Quote,
  type Trade,
  topicFor,
} from './protocol.ts';
import { QuoteBoard } from './quotes.ts';
import { TradeRing } from './ring.ts';

export interface TickHistory {
  /** Stored trades of one ticker with from ≤ seq ≤ to, in order. */
  range(ticker: string, fromSeq: number, toSeq: number): Promise<Trade[]>;
}

export interface MarketServiceDeps {
  readonly tickers: readonly { ticker: string; exchange: string }[];
  readonly ringCapacity: number;
  /** Missed events beyond this many are not replayed: the client gets a snapshot instead. */
  readonly maxReplay: number;
  readonly history: TickHistory;
  readonly store: (trades: readonly Trade[]) => void;
  readonly deadLetter: (letter: NewDeadLetter) => void;
  readonly publish: (topic: string, message: Uint8Array | string) => boolean;
  readonly status: () => ConnectorStatus;
  readonly log: Logger;
}

/** What a subscriber must be sent to catch up from a sequence, then go live. */
export type CatchUp =
  | { readonly kind: 'replay'; readonly frames: Uint8Array[]; readonly from: number; readonly to: number }
  | { readonly kind: 'snapshot'; readonly quote: Quote | undefined };

const REPLAY_FRAME_TRADES = 2_000;

/** The market's in-memory state: quotes, replay rings, and the path from capture to clients. */
export class MarketService implements FeedSinks {
  private readonly quotes = new QuoteBoard();
  private readonly rings = new Map<string, TradeRing>();
  private readonly books = new Map<string, PriceBook>();
  private readonly candles = new Map<string, Candle>();
  readonly tickerList: string[];
  readonly instruments: InstrumentInfo[];

  constructor(private readonly deps: MarketServiceDeps) {
    this.tickerList = deps.tickers.map((t) => t.ticker);
    this.instruments = deps.tickers.flatMap((t) => {
      const i = instrumentFor(t.ticker, t.exchange);
      return i
        ? [
            {
              ticker: i.ticker,
              exchange: i.exchange,
              tickSize: i.tickSize,
              lotSize: i.lotSize,
              priceDecimals: i.priceDecimals,
              multiplier: i.multiplier,
            },
          ]
        : [];
    });
    for (const t of this.tickerList) this.rings.set(t, new TradeRing(deps.ringCapacity));
  }

  // ---- FeedSinks: called by the feed after each drain ----

  trades(instrument: Instrument, trades: Trade[]) {
    const ring = this.rings.get(instrument.ticker);
    if (!ring) return;
    // A restart continues numbering from the database: the ring starts at the first new seq.
    for (const t of trades) {
      if (ring.length > 0 && t.seq !== ring.lastSeq + 1)
        this.rings.set(t.ticker, new TradeRing(this.deps.ringCapacity));
      (this.rings.get(t.ticker) as TradeRing).push(t);
    }
    this.quotes.apply(instrument.ticker, instrument.exchange, trades);
    this.foldCandle(instrument.ticker, trades);
    this.deps.store(trades);
    // Encoded once, published as bytes to every subscriber of the ticker.
    this.deps.publish(topicFor('trades', instrument.ticker), encodeTrades(instrument.ticker, trades));
  }

  /** Applies a drain's book events of one ticker; false when the book must be resubscribed. */
  bookEvents(instrument: Instrument, events: readonly RawPriceBook[]): boolean {
    const book = this.books.get(instrument.ticker) ?? new PriceBook(instrument);
    this.books.set(instrument.ticker, book);
    let healthy = true;
    for (const e of events) {
      try {
        book.apply(e);
      } catch (err) {
        if (!(err instanceof BookError)) throw err;
        this.deps.deadLetter({
          source: 'profitdll.priceBook',
          reason: err.reason,
          detail: err.message,
          payload: e,
        });
        // A book that missed an event is wrong from then on: drop it and ask for a fresh one.
        book.clear();
        healthy = false;
        break;
      }
    }
    this.deps.publish(topicFor('book', instrument.ticker), this.bookFrame(instrument.ticker) as Uint8Array);
    return healthy;
  }

  /** The book's top BOOK_DEPTH levels per side as one frame, or undefined before any book. */
  bookFrame(ticker: string): Uint8Array | undefined {
    const book = this.books.get(ticker);
    if (!book) return undefined;
    return encodeBook(
      ticker,
      book.version,
      Date.now(),
      book.bids.slice(0, BOOK_DEPTH),
      book.asks.slice(0, BOOK_DEPTH),
    );
  }

  /** The current 1-minute candle as one frame, or undefined before the first trade. */
  candleFrame(ticker: string): Uint8Array | undefined {
    const c = this.candles.get(ticker);
    return c && encodeCandles(ticker, LIVE_CANDLE_SECONDS, [c]);
  }

  private foldCandle(ticker: string, trades: readonly Trade[]) {
    const width = LIVE_CANDLE_SECONDS * 1000;
    const closed: Candle[] = [];
    let c = this.candles.get(ticker);
    for (const t of trades) {
      const bucket = Math.floor(t.time / width) * width;
      if (c && bucket === c.time) {
        c = {
          ...c,
          high: Math.max(c.high, t.price),
          low: Math.min(c.low, t.price),
          close: t.price,
          volume: c.volume + t.qty,
          trades: c.trades + 1,
        };
      } else {
        if (c) closed.push(c);
        c = {
          time: bucket,
          open: t.price,
          high: t.price,
          low: t.price,
          close: t.price,
          volume: t.qty,
          trades: 1,
        };
      }
    }
    if (!c) return;
    this.candles.set(ticker, c);
    // A bar that closed within this batch is sent in its final form before the new one.
    this.deps.publish(
      topicFor('candles', ticker),
      encodeCandles(ticker, LIVE_CANDLE_SECONDS, [...closed, c]),
    );
  }

  deadLetter(letter: DeadLetter) {
    this.deps.deadLetter(letter);
  }

  status(status: ConnectorStatus) {
    this.deps.publish('connector', JSON.stringify({ type: 'connector', status }));
  }

  // ---- Views for sessions ----

  quote(ticker: string): Quote | undefined {
    return this.quotes.get(ticker);
  }

  connectorStatus(): ConnectorStatus {
    return this.deps.status();
  }

  lastSeq(ticker: string): number {
    return this.rings.get(ticker)?.lastSeq ?? 0;
  }

  /**
   * Everything after `after` for one ticker: from the ring, else from the database then the
   * ring, else (gap too large or history incomplete) a snapshot. The returned frames end at the
   * live edge, so a caller that subscribes right after sending them sees no gap and no duplicate.
   */
  async catchUp(ticker: string, after: number): Promise<CatchUp> {
    const ring = this.rings.get(ticker) as TradeRing;
    const fromRing = ring.since(after);
    if (fromRing) return this.replay(fromRing, after);
    const missing = ring.lastSeq - after;
    if (missing > this.deps.maxReplay || after < 0) return { kind: 'snapshot', quote: this.quote(ticker) };
    const older = await this.deps.history.range(ticker, after + 1, ring.oldestSeq - 1);
    // After the await, the ring may have moved on: re-read it synchronously from the stored edge.
    const lastStored = older.length > 0 ? (older[older.length - 1] as Trade).seq : after;
    const contiguous = older.every((t, i) => t.seq === after + 1 + i);
    const rest = this.rings.get(ticker)?.since(lastStored);
    if (!contiguous || !rest) return { kind: 'snapshot', quote: this.quote(ticker) };
    return this.replay([...older, ...rest], after);
  }

  private replay(trades: Trade[], after: number): CatchUp {
    const frames: Uint8Array[] = [];
    for (let i = 0; i < trades.length; i += REPLAY_FRAME_TRADES) {
      const chunk = trades.slice(i, i + REPLAY_FRAME_TRADES);
      frames.push(encodeTrades((chunk[0] as Trade).ticker, chunk, FrameFlag.replay));
    }
    const to = trades.length > 0 ? (trades[trades.length - 1] as Trade).seq : after;
    return { kind: 'replay', frames, from: after + 1, to };
  }
}
