import type { NewDeadLetter } from '../deadLetters/queue.ts';
import type { Logger } from '../log.ts';
import { type Instrument, instrumentFor } from '../shared/instruments.ts';
import {
  type AgentJson,
  type BackfillStatus,
  BOOK_DEPTH,
  b3Day,
  type Candle,
  type Channel,
  type ConnectorStatus,
  type DayStats,
  encodeBook,
  encodeCandles,
  encodeTrades,
  FrameFlag,
  type InstrumentInfo,
  LIVE_CANDLE_SECONDS,
  type Quote,
  type ServerMessage,
  type Top,
  type Trade,
  type TradeMark,
} from '../shared/market.ts';
import type { AgentDirectory } from './agents.ts';
import { BookError, PriceBook, type RawPriceBook } from './book.ts';
import type { DeadLetter, FeedSinks } from './feed.ts';
import { QuoteBoard, type QuotePoint } from './quotes.ts';
import { TradeRing } from './ring.ts';

/** The uWS topic a channel's events for one ticker are published on (session.ts subscribes to it). */
export const topicFor = (channel: Channel, ticker: string) => `md/${channel}/${ticker}`;

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
  /**
   * The last seq capture has given a ticker. Until the ticker's first trade since this process
   * started, its head: the stored one (and any number a dead letter holds), which new trades
   * continue from.
   */
  readonly head: (ticker: string) => number;
  /** A catch-up's reads of stored history that take longer in all count as failed (default HISTORY_READ_MS). */
  readonly historyReadMs?: number;
  readonly store: (trades: readonly Trade[]) => void;
  readonly deadLetter: (letter: NewDeadLetter) => void;
  readonly publish: (topic: string, message: Uint8Array | string) => boolean;
  readonly status: () => ConnectorStatus;
  /** The brokers trades name; without one (a market with no DLL behind it) they stay numbers. */
  readonly agents?: Pick<AgentDirectory, 'learn' | 'all'>;
  readonly log: Logger;
}

/** What watches each batch of trades with the quote before and after it (users' alerts). */
export interface TradeWatch {
  /** Whether anything watches the ticker: the quotes are not built for one nobody watches. */
  watches(ticker: string): boolean;
  trades(
    ticker: string,
    before: QuotePoint | undefined,
    trades: readonly Trade[],
    after: QuotePoint | undefined,
  ): void;
}

/** What a subscriber must be sent to catch up from a sequence, then go live. */
export type CatchUp =
  | { readonly kind: 'replay'; readonly frames: Uint8Array[]; readonly from: number; readonly to: number }
  | {
      readonly kind: 'snapshot';
      /**
       * `gap_too_large`: the missed events are no longer kept (or not all of them), or the
       * database did not give them within `historyReadMs`;
       * `rewound`: the client is past this server's head: it saw events a crash lost before they
       * were stored, and this server numbers its new events from its own head.
       */
      readonly reason: 'gap_too_large' | 'rewound';
      readonly quote: Quote | undefined;
      /** The server's last seq for the ticker: live events continue from it. */
      readonly seq: number;
    };

const REPLAY_FRAME_TRADES = 2_000;
/** How long a catch-up waits for stored history before it answers a snapshot instead. */
export const HISTORY_READ_MS = 10_000;

/** The market's in-memory state: quotes, replay rings, and the path from capture to clients. */
export class MarketService implements FeedSinks {
  private readonly quotes = new QuoteBoard();
  private readonly rings = new Map<string, TradeRing>();
  private readonly books = new Map<string, PriceBook>();
  private readonly candles = new Map<string, Candle>();
  private readonly backfills = new Map<string, BackfillStatus>();
  readonly tickerList: string[];
  readonly instruments: InstrumentInfo[];
  private watch: TradeWatch | undefined;

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

  /**
   * The session's quotes as the day's stored trades make them (`TickStore.sessionQuotes`), given
   * at start-up before the feed delivers a trade: a restart continues the day's volume, trade
   * count and range instead of starting them again, and each stored trade counts once, since
   * the trades that follow are numbered after the stored ones.
   */
  resume(quotes: readonly Omit<Quote, 'exchange'>[]) {
    for (const q of quotes) {
      const t = this.deps.tickers.find((x) => x.ticker === q.ticker);
      if (t) this.quotes.seed({ ...q, exchange: t.exchange });
    }
  }

  /** From now on each batch of trades is shown to `watch` once it has been published. */
  watchTrades(watch: TradeWatch) {
    this.watch = watch;
  }

  // ---- FeedSinks: called by the feed after each drain ----

  trades(instrument: Instrument, trades: Trade[]) {
    this.take(instrument, trades, true);
  }

  /** A backfill's trades, stored already (backfill.ts): into the ring and the quote and out, as live ones. */
  backfilled(instrument: Instrument, trades: Trade[]) {
    this.take(instrument, trades, false);
  }

  /** Where a ticker's backfill stands: kept for subscribers to come, and sent to its subscribers. */
  backfill(status: BackfillStatus) {
    this.backfills.set(status.ticker, status);
    const msg: ServerMessage = { type: 'backfill', ...status };
    this.deps.publish(topicFor('trades', status.ticker), JSON.stringify(msg));
  }

  backfillStatus(ticker: string): BackfillStatus | undefined {
    return this.backfills.get(ticker);
  }

  private take(instrument: Instrument, trades: Trade[], store: boolean) {
    const ring = this.rings.get(instrument.ticker);
    if (!ring) return;
    // A restart continues numbering from the database: the ring starts at the first new seq.
    for (const t of trades) {
      if (ring.length > 0 && t.seq !== ring.lastSeq + 1)
        this.rings.set(t.ticker, new TradeRing(this.deps.ringCapacity));
      (this.rings.get(t.ticker) as TradeRing).push(t);
    }
    // Live trades only: a backfill's are the session's past, no alert fires on them.
    const watched = store && this.watch?.watches(instrument.ticker) === true;
    const before = watched ? this.quotes.point(instrument.ticker) : undefined;
    this.quotes.apply(instrument.ticker, instrument.exchange, trades);
    this.foldCandle(instrument.ticker, trades);
    if (store) this.deps.store(trades);
    this.deps.agents?.learn(trades);
    // Encoded once, published as bytes to every subscriber of the ticker.
    this.deps.publish(topicFor('trades', instrument.ticker), encodeTrades(instrument.ticker, trades));
    // After the publish: the alerts' evaluation does not delay the frame.
    if (watched)
      try {
        this.watch?.trades(instrument.ticker, before, trades, this.quotes.point(instrument.ticker));
      } catch (err) {
        // A fault in what watches the trades never stops their way to the clients and the store.
        this.deps.log.error({ err: (err as Error).message, ticker: instrument.ticker }, 'trade watch failed');
      }
  }

  /**
   * The exchange's figures for a ticker's day. A change of what trades cannot tell a client
   * (the open, the price limits, a new day) is pushed to the ticker's trades subscribers; the
   * range and volume move with the trades themselves.
   */
  day(instrument: Instrument, day: DayStats) {
    const before = this.quotes.day(instrument.ticker, day);
    if (
      before &&
      b3Day(before.time) === b3Day(day.time) &&
      before.open === day.open &&
      before.minLimit === day.minLimit &&
      before.maxLimit === day.maxLimit
    )
      return;
    const msg: ServerMessage = { type: 'day', ticker: instrument.ticker, day };
    this.deps.publish(topicFor('trades', instrument.ticker), JSON.stringify(msg));
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
    this.publishTop(instrument.ticker, book);
    return healthy;
  }

  /** The quote board's bid and ask: to every trades subscriber of the ticker when they change. */
  private publishTop(ticker: string, book: PriceBook) {
    const bid = book.bids[0];
    const ask = book.asks[0];
    const top: Top = {
      ...(bid ? { bid: bid.price, bidQty: bid.qty } : {}),
      ...(ask ? { ask: ask.price, askQty: ask.qty } : {}),
    };
    if (!this.quotes.top(ticker, top)) return;
    const msg: ServerMessage = { type: 'top', ticker, top };
    this.deps.publish(topicFor('trades', ticker), JSON.stringify(msg));
  }

  /** The previous session's close, as the DLL gave it after subscribing the ticker. */
  previousClose(instrument: Instrument, close: number) {
    this.quotes.previousClose(instrument.ticker, close);
    const msg: ServerMessage = { type: 'previousClose', ticker: instrument.ticker, close };
    this.deps.publish(topicFor('trades', instrument.ticker), JSON.stringify(msg));
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
    // A copy made once per batch and updated in place: this runs for every trade. (The stored
    // bar is never changed after it is set; it may be being encoded for a subscriber.)
    const stored = this.candles.get(ticker);
    let c: { -readonly [K in keyof Candle]: Candle[K] } | undefined = stored && { ...stored };
    for (const t of trades) {
      const bucket = Math.floor(t.time / width) * width;
      if (c && bucket === c.time) {
        if (t.price > c.high) c.high = t.price;
        if (t.price < c.low) c.low = t.price;
        c.close = t.price;
        c.volume += t.qty;
        c.trades++;
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

  /** Every broker named so far (a connecting socket gets them all once). */
  agents(): AgentJson[] {
    return this.deps.agents?.all() ?? [];
  }

  lastSeq(ticker: string): number {
    return this.rings.get(ticker)?.lastSeq ?? 0;
  }

  /** The ring's trades of the ticker after `after`; undefined when it no longer reaches back there. */
  tradesSince(ticker: string, after: number): Trade[] | undefined {
    return this.rings.get(ticker)?.since(after);
  }

  /**
   * The `limit` trades before seq `before` (the newest ones when `before` is past the head),
   * oldest first: the older part from the database, the rest from the ring, read before any
   * await so the two meet. Undefined when the database fails, leaves a hole or is late: a tape
   * is never shown with a hole it does not know of.
   */
  async tradesBefore(ticker: string, before: number, limit: number): Promise<Trade[] | undefined> {
    const end = Math.min(before - 1, this.headOf(ticker));
    if (end < 1 || limit < 1) return [];
    const first = Math.max(1, end - limit + 1);
    const ring = this.ringOf(ticker);
    const ringFirst = ring.length > 0 ? ring.oldestSeq : end + 1;
    const held = first >= ringFirst ? (ring.since(first - 1) ?? []) : (ring.since(ringFirst - 1) ?? []);
    const newer = held.filter((t) => t.seq <= end);
    if (first >= ringFirst) return newer;
    const dbEnd = Math.min(end, ringFirst - 1);
    const older = await this.readHistory(
      ticker,
      first,
      dbEnd,
      Date.now() + (this.deps.historyReadMs ?? HISTORY_READ_MS),
    );
    if (older?.length !== dbEnd - first + 1 || older.some((t, i) => t.seq !== first + i)) return undefined;
    return older.concat(newer);
  }

  /**
   * Everything after `after` for one ticker: from the ring, else from the database then the
   * ring, else (gap too large or history incomplete) a snapshot. The returned frames end at the
   * live edge, so a caller that subscribes right after sending them sees no gap and no duplicate.
   *
   * After a crash this server numbers new events from its stored head, while a client may have
   * received live events past it that were never stored (fan-out precedes the write). Its `since`
   * then names events this server does not have, or has under other numbers; replaying "after
   * `since`" would skip this server's events up to it and leave the client with lost ones. So
   * the client gets a `rewound` snapshot carrying this server's head to continue from when
   * `after` is beyond that head, or when `seen` (the client's own trade at `after`: trade number
   * and time) is not this server's trade at `after`.
   */
  async catchUp(ticker: string, after: number, seen?: TradeMark): Promise<CatchUp> {
    const head = this.headOf(ticker);
    if (after < 0) return this.snapshot(ticker, 'gap_too_large', head);
    if (after > head) return this.snapshot(ticker, 'rewound', head);
    // With `seen`, the trade at `after` is read too, to compare it with the client's.
    const first = seen !== undefined && after > 0 ? after : after + 1;
    const trades = await this.tradesFrom(ticker, first, head - after <= this.deps.maxReplay);
    if (!trades) return this.snapshot(ticker, 'gap_too_large', this.headOf(ticker));
    return this.verified(ticker, trades, after, seen, this.headOf(ticker));
  }

  /**
   * The trades from `first` to the live edge: from the ring alone when it still holds `first`,
   * else (when `mayRead`) the database's part joined to the ring's. The ring's contents are
   * copied before the read is awaited (at most its capacity), so what it evicts meanwhile — a
   * busy ticker evicts on every trade — is still in hand, and the database is asked only for
   * trades the ring had already let go of, which the writer has stored (it lags by 100 ms, the
   * ring by its capacity). Should more than the ring's capacity trade during a read, what it
   * let go of meanwhile is read next, until the ring meets the trades in hand. Undefined when the
   * database fails, leaves a hole, or does not answer within `historyReadMs` in all.
   */
  private async tradesFrom(ticker: string, first: number, mayRead: boolean): Promise<Trade[] | undefined> {
    const deadline = Date.now() + (this.deps.historyReadMs ?? HISTORY_READ_MS);
    let trades: Trade[] = [];
    let next = first;
    for (;;) {
      const ring = this.ringOf(ticker);
      // Before this process's first trade of the ticker, the database holds everything to its head.
      const end = ring.length > 0 ? ring.oldestSeq - 1 : this.deps.head(ticker);
      if (next > end) return trades.concat(ring.since(next - 1) as Trade[]);
      if (!mayRead) return undefined;
      const held = ring.since(end) as Trade[];
      const older = await this.readHistory(ticker, next, end, deadline);
      const from = next;
      if (older?.length !== end - from + 1 || older.some((t, i) => t.seq !== from + i)) return undefined;
      trades = trades.concat(older, held);
      next = end + held.length + 1;
    }
  }

  /**
   * Stored trades first..end, or undefined when the database fails or does not answer by
   * `deadline`: the client then gets a snapshot at once and goes live, its gap named, instead
   * of a subscription left waiting on a database that may not answer.
   */
  private async readHistory(
    ticker: string,
    first: number,
    end: number,
    deadline: number,
  ): Promise<Trade[] | undefined> {
    const ms = this.deps.historyReadMs ?? HISTORY_READ_MS;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${ms} ms`)),
        Math.max(0, deadline - Date.now()),
      );
    });
    try {
      return await Promise.race([this.deps.history.range(ticker, first, end), late]);
    } catch (err) {
      this.deps.log.warn(
        { err, ticker, first, end },
        'stored history unavailable: catch-up answered with a snapshot',
      );
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The replay of `trades` (from `after`, or from `after + 1` when unchecked) once `seen` matches. */
  private verified(
    ticker: string,
    trades: Trade[],
    after: number,
    seen: TradeMark | undefined,
    head: number,
  ): CatchUp {
    if (seen === undefined || after === 0) return this.replay(trades, after);
    const mine = trades[0];
    if (!mine || mine.seq !== after || mine.tradeNumber !== seen.tradeNumber || mine.time !== seen.time)
      return this.snapshot(ticker, 'rewound', head);
    return this.replay(trades.slice(1), after);
  }

  private ringOf(ticker: string): TradeRing {
    return this.rings.get(ticker) as TradeRing;
  }

  /** The last seq of the ticker: the ring's, or capture's before this process's first trade. */
  private headOf(ticker: string): number {
    const ring = this.ringOf(ticker);
    return ring.length > 0 ? ring.lastSeq : this.deps.head(ticker);
  }

  private snapshot(ticker: string, reason: 'gap_too_large' | 'rewound', seq: number): CatchUp {
    return { kind: 'snapshot', reason, quote: this.quote(ticker), seq };
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
