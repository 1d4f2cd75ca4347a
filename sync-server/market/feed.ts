import type { RawEvent } from '../../native/records.ts';
import type { Ticker } from '../config.ts';
import { jsonSafe } from '../deadLetters/queue.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { OrderAnnouncements } from '../orders/service.ts';
import { type Instrument, instrumentFor, isValidPrice } from '../shared/instruments.ts';
import type { ConnectorStatus, DayStats, Trade } from '../shared/market.ts';
import type { RawPriceBook } from './book.ts';
import { type Rejected, RejectReason, TradeCapture } from './capture.ts';

/** The part of the ProfitDLL binding the feed drives (the binding in native/ implements it). */
export interface MarketConnector {
  login(key: string, user: string, password: string, opts?: { routing?: boolean }): void;
  subscribeTicker(ticker: string, exchange: string): void;
  subscribePriceBook(ticker: string, exchange: string): void;
  unsubscribePriceBook(ticker: string, exchange: string): void;
  /** GetLastDailyClose: undefined when the DLL has none. */
  lastDailyClose(ticker: string, exchange: string): number | undefined;
  drain(max?: number): RawEvent[];
  /** Resolves once events are ready (true) or after timeoutMs / wake() (false). */
  waitForEvents(timeoutMs: number, lingerUs?: number): Promise<boolean>;
  wake(): void;
  dropped(): bigint;
  finalize(): void;
  /** GetHistoryTrades: the answer comes through drain() (trade events with `history`, then progress 100). */
  historyTrades(ticker: string, exchange: string, from: Date, to: Date): void;
  /** The DLL's clock, ms since the epoch: its today and now. */
  clock(): number;
}

/**
 * Where history goes (the backfill, backfill.ts): answers to GetHistoryTrades, and the live
 * trades of a ticker whose history is being filled, held rather than numbered.
 */
export interface HistoryIntake {
  /** The feed subscribed the ticker (SubscribeTicker): its history is asked now. */
  subscribed(ticker: Ticker): void;
  /** Whether the ticker's live trades are held: its history is being filled. */
  holds(ticker: string): boolean;
  /** A checked live trade of a held ticker, not numbered (seq 0). */
  hold(trade: Trade): void;
  historyTrade(ev: Extract<RawEvent, { kind: 'trade' }>): void;
  progress(ev: Extract<RawEvent, { kind: 'progress' }>): void;
  stop(): void;
}

export interface DeadLetter {
  readonly source: string;
  readonly reason: string;
  readonly detail: string;
  readonly payload: unknown;
}

export interface FeedSinks {
  /** Valid trades of one ticker from one drain, in sequence order. */
  trades(instrument: Instrument, trades: Trade[]): void;
  /** The exchange's figures for a ticker's session day (its daily callback). */
  day(instrument: Instrument, day: DayStats): void;
  /** A drain's price-book events of one ticker; false when the book must be resubscribed. */
  bookEvents(instrument: Instrument, events: RawPriceBook[]): boolean;
  /** The previous session's close of a subscribed ticker. */
  previousClose(instrument: Instrument, close: number): void;
  deadLetter(letter: DeadLetter): void;
  status(status: ConnectorStatus): void;
}

// ProfitDLL TStateCallback connection types and their "good" results (API.md).
const CONN = { login: 0, routing: 1, marketData: 2, activation: 3 } as const;
const LOGIN_REASONS: Record<number, string> = {
  1: 'invalid login',
  2: 'invalid password',
  3: 'blocked password',
  4: 'expired password',
  200: 'unknown login error',
};
const DRAIN_BATCH = 8_192;
// How long one wait may block before the loop checks whether it should stop.
const IDLE_WAIT_MS = 250;
// After the first event, gather a little more before draining: bounds wake-ups on a busy feed.
const LINGER_US = 200;

export interface FeedOptions {
  readonly key: string;
  readonly user: string;
  readonly password: string;
  readonly tickers: readonly Ticker[];
  readonly connectTimeoutMs?: number;
  /** Log in with routing; the DLL's order callbacks go to the orders given `announceOrdersTo`. */
  readonly routing?: boolean;
}

/** Logs in, subscribes the configured tickers and drains the capture ring into the sinks. */
export class MarketFeed {
  private readonly capture: TradeCapture;
  private readonly changedAt = new Map<keyof typeof CONN, number>();
  private statusNow: ConnectorStatus = {
    login: null,
    routing: null,
    marketData: null,
    activation: null,
    connected: false,
  };
  private running = false;
  private loop: Promise<void> | undefined;
  private droppedSoFar = 0n;
  private subscribed = false;
  private waiters: (() => void)[] = [];
  private orders: OrderAnnouncements | undefined;
  private history: HistoryIntake | undefined;

  constructor(
    private readonly connector: MarketConnector,
    private readonly opts: FeedOptions,
    private readonly sinks: FeedSinks,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    this.capture = new TradeCapture(new Set(opts.tickers.map((t) => `${t.ticker}:${t.exchange}`)));
  }

  get status(): ConnectorStatus {
    return this.statusNow;
  }

  /** When a connection state last changed (ms since the epoch), undefined before it is reported. */
  linkChangedAt(link: keyof typeof CONN): number | undefined {
    return this.changedAt.get(link);
  }

  get tradeCapture(): TradeCapture {
    return this.capture;
  }

  /**
   * Where the DLL's order announcements go: the ring holds every callback, so this one drain
   * hands them on by kind (without orders they are only counted, as kinds Tape does not use).
   */
  announceOrdersTo(orders: OrderAnnouncements | undefined) {
    this.orders = orders;
  }

  /** Where history answers go, and who holds a ticker's live trades while its history fills. */
  fillHistoryWith(history: HistoryIntake | undefined) {
    this.history = history;
  }

  /** Resolves once the market data connection is up (or rejects with the DLL's named reason). */
  async start(): Promise<void> {
    this.connector.login(this.opts.key, this.opts.user, this.opts.password, {
      routing: this.opts.routing === true,
    });
    this.running = true;
    this.loop = this.run();
    const timeoutMs = this.opts.connectTimeoutMs ?? 30_000;
    await new Promise<void>((resolve, reject) => {
      const timeout = setTimeout(
        () => reject(new Error(`ProfitDLL did not connect within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push(() => {
        clearTimeout(timeout);
        const reason = this.loginFailure();
        if (reason) reject(new Error(`ProfitDLL login failed: ${reason}`));
        else resolve();
      });
    });
  }

  async stop() {
    this.history?.stop();
    this.running = false;
    this.connector.wake();
    await this.loop;
    this.connector.finalize();
    this.drainOnce(); // whatever was captured before the DLL stopped still reaches the sinks
  }

  /**
   * Drains whenever the ring has events: the wait runs on a worker thread and returns as soon as
   * the DLL delivers, so an event reaches clients without waiting for a timer tick.
   */
  private async run() {
    while (this.running) {
      let n = 0;
      try {
        n = this.drainOnce();
      } catch (err) {
        // A bug in a sink must not stop the market: it is logged and counted, and draining goes on.
        this.metrics.marketEvents.inc({ kind: 'any', outcome: 'drain_error' });
        this.log.error({ err }, 'error while draining market events');
      }
      // A full batch means more is waiting: let I/O run, then drain again without sleeping.
      if (n === DRAIN_BATCH) await new Promise((r) => setImmediate(r));
      else if (this.running) await this.connector.waitForEvents(IDLE_WAIT_MS, LINGER_US);
    }
  }

  /** Events counted during a drain, added to the metric once at its end (it runs per event). */
  private readonly tally = new Map<string, number>();
  private count(kind: string, outcome: string) {
    const key = `${kind}\0${outcome}`;
    this.tally.set(key, (this.tally.get(key) ?? 0) + 1);
  }

  /** An event capture refused: to the dead-letter queue with the reason, and counted. */
  private dropEvent(ev: RawEvent, r: Rejected) {
    this.count(ev.kind, 'dead_lettered');
    this.sinks.deadLetter({
      source: `profitdll.${ev.kind}`,
      reason: r.reason,
      detail: r.detail,
      payload: jsonSafe(ev),
    });
  }

  drainOnce(): number {
    const events = this.connector.drain(DRAIN_BATCH);
    const byTicker = new Map<string, { instrument: Instrument; trades: Trade[] }>();
    const books = new Map<string, { instrument: Instrument; events: RawPriceBook[] }>();
    for (const ev of events) {
      if (ev.kind === 'state') this.onState(ev.connType, ev.result);
      else if (ev.kind === 'priceBook') {
        const checked = this.capture.checkAsset(ev);
        if (!checked.ok) {
          this.dropEvent(ev, checked);
          continue;
        }
        const { instrument } = checked;
        const group = books.get(ev.ticker);
        if (group) group.events.push(ev);
        else books.set(ev.ticker, { instrument, events: [ev] });
      } else if (ev.kind === 'trade' && ev.history) {
        // An answer to GetHistoryTrades: never a live trade, so never numbered as one here.
        if (this.history) this.history.historyTrade(ev);
        else this.count('historyTrade', 'not_used');
      } else if (ev.kind === 'progress' && this.history) {
        this.history.progress(ev);
      } else if (ev.kind === 'trade' && this.history?.holds(ev.ticker)) {
        // Its history is being filled: checked now, numbered after the history.
        const r = this.capture.check(ev);
        if (r.ok) this.history.hold(r.trade);
        else this.dropEvent(ev, r);
      } else if (ev.kind === 'trade') {
        const r = this.capture.capture(ev);
        if (r.ok) {
          const group = byTicker.get(r.trade.ticker);
          if (group) group.trades.push(r.trade);
          else byTicker.set(r.trade.ticker, { instrument: r.instrument, trades: [r.trade] });
          this.count('trade', 'accepted');
        } else this.dropEvent(ev, r);
      } else if (ev.kind === 'daily') {
        const r = this.capture.captureDay(ev);
        if (!r.ok) this.dropEvent(ev, r);
        else {
          if (r.day) this.sinks.day(r.instrument, r.day);
          this.count('daily', 'accepted');
        }
      } else if (ev.kind === 'tinyBook' || ev.kind === 'offerBook') {
        // Checked, then only counted: the book Tape shows comes from the price book.
        const bad = this.capture.checkBookSide(ev);
        if (bad) this.dropEvent(ev, bad);
        else this.count(ev.kind, 'not_used');
      } else if (ev.kind === 'order' && this.orders) {
        // Read and applied after the drain, on this thread: never inside a DLL callback.
        this.orders.onOrderUpdate(ev.localOrderId);
        this.count('order', 'accepted');
      } else if (ev.kind === 'invalidTicker' || ev.kind === 'unknown') {
        // The DLL refused a configured ticker, or the shim wrote a kind this binding cannot read.
        this.log.error({ event: jsonSafe(ev) }, `ProfitDLL reported ${ev.kind}`);
        this.sinks.deadLetter({
          source: `profitdll.${ev.kind}`,
          reason: ev.kind,
          detail: 'reported by the DLL',
          payload: jsonSafe(ev),
        });
      } else {
        // Kinds Tape does not use (ticker state, progress, account, history, …) are counted, not hidden.
        this.count(ev.kind, 'not_used');
      }
    }
    for (const [key, n] of this.tally) {
      const [kind, outcome] = key.split('\0') as [string, string];
      this.metrics.marketEvents.inc({ kind, outcome }, n);
    }
    this.tally.clear();
    for (const { instrument, trades } of byTicker.values()) {
      this.sinks.trades(instrument, trades);
      // The stamp is CLOCK_REALTIME in ms with a fraction; Date.now() would round to whole ms.
      const age = performance.timeOrigin + performance.now() - (trades[0] as Trade).capturedAt;
      this.metrics.publishDelay.observe(age / 1000);
    }
    for (const { instrument, events } of books.values()) {
      if (!this.sinks.bookEvents(instrument, events)) {
        // Resubscribing makes the DLL send the whole book again.
        this.connector.unsubscribePriceBook(instrument.ticker, instrument.exchange);
        this.connector.subscribePriceBook(instrument.ticker, instrument.exchange);
      }
    }
    const dropped = this.connector.dropped();
    if (dropped > this.droppedSoFar) {
      const lost = dropped - this.droppedSoFar;
      this.droppedSoFar = dropped;
      this.metrics.marketEvents.inc({ kind: 'any', outcome: 'ring_overflow' }, Number(lost));
      this.sinks.deadLetter({
        source: 'capture.ring',
        reason: 'ring_overflow',
        detail: `${lost} events were dropped because the capture ring was full`,
        payload: { lost: Number(lost), totalDropped: Number(dropped) },
      });
    }
    return events.length;
  }

  private onState(connType: number, result: number) {
    const s = { ...this.statusNow };
    if (connType === CONN.login) s.login = result;
    else if (connType === CONN.routing) {
      s.routing = result;
      // Read on the JS thread after the drain: the manager pauses orders, then re-reads the account.
      if (this.statusNow.routing !== result) this.orders?.routingChanged(result);
    } else if (connType === CONN.marketData) s.marketData = result;
    else if (connType === CONN.activation) s.activation = result;
    else {
      this.sinks.deadLetter({
        source: 'profitdll.state',
        reason: 'unknown_state_type',
        detail: `type ${connType}`,
        payload: { connType, result },
      });
      return;
    }
    s.connected = s.login === 0 && s.marketData === 4 && s.activation !== 1;
    const link = Object.keys(CONN)[connType] as keyof typeof CONN;
    if (this.statusNow[link] !== result) this.changedAt.set(link, Date.now());
    this.statusNow = s;
    this.metrics.connectorState.set({ type: Object.keys(CONN)[connType] as string }, result);
    this.log.info({ connType, result, connected: s.connected }, 'ProfitDLL state');
    this.sinks.status(s);
    // Not once stopping: the last drain after DLLFinalize can still hold a 'connected' the DLL
    // announced while it stopped, and a call into a finalized DLL fails (NL_NOT_INITIALIZED).
    if (s.connected && !this.subscribed && this.running) {
      this.subscribed = true;
      // Never from inside a DLL callback (deadlock risk): this runs on the JS thread, after the drain.
      for (const t of this.opts.tickers) {
        this.connector.subscribeTicker(t.ticker, t.exchange);
        this.connector.subscribePriceBook(t.ticker, t.exchange);
        this.history?.subscribed(t);
        this.readPreviousClose(t);
      }
    }
    if (s.connected || this.loginFailure()) {
      for (const w of this.waiters.splice(0)) w();
    }
  }

  /** A close the DLL cannot give, or gives out of the tick grid, is lettered; the day still runs. */
  private readPreviousClose(t: Ticker) {
    const instrument = instrumentFor(t.ticker, t.exchange);
    if (!instrument) return;
    let close: number | undefined;
    try {
      close = this.connector.lastDailyClose(t.ticker, t.exchange);
    } catch (err) {
      this.log.warn({ ticker: t.ticker, err: (err as Error).message }, 'GetLastDailyClose failed');
      this.count('previousClose', 'failed');
      return;
    }
    if (close === undefined) return this.count('previousClose', 'none');
    if (!isValidPrice(close, instrument.tickSize)) {
      this.sinks.deadLetter({
        source: 'profitdll.lastDailyClose',
        reason: RejectReason.badPrice,
        detail: `previous close ${close} is not a price on the ${instrument.tickSize} tick grid`,
        payload: { ticker: t.ticker, exchange: t.exchange, close },
      });
      return;
    }
    this.count('previousClose', 'accepted');
    this.sinks.previousClose(instrument, close);
  }

  private loginFailure(): string | undefined {
    const { login, activation } = this.statusNow;
    if (login !== null && login !== 0) return LOGIN_REASONS[login] ?? `login state ${login}`;
    if (activation === 1) return 'activation key invalid';
    return undefined;
  }
}
