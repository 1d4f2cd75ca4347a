import {
  type BookFrame,
  type CandlesFrame,
  type Channel,
  type ClientMessage,
  decodeBatch,
  decodeFrame,
  type Frame,
  FrameFlag,
  FrameKind,
  isBatch,
  type Quote,
  type ServerMessage,
  type Trade,
  type TradeMark,
} from '../../sync-server/shared/market.ts';

// The market client: one /ws connection, reconnects with backoff, and never shows a gap.
// It tracks the last contiguous sequence per ticker; on a gap or a reconnect it resubscribes
// with `since` (and which trade it holds there), and the server replays what was missed before
// going live again — or, when its history is not the client's (a crash lost events the client
// had been sent), answers a `rewound` snapshot with the sequence to continue from.

export type LinkState = 'connecting' | 'live' | 'replaying' | 'conflated' | 'reconnecting' | 'offline';

export interface FeedClientOptions {
  url: string;
  /**
   * The query that authenticates the next connection, asked for before each one: `{ ticket }`, a
   * one-time ticket (the app: its access token never goes in a URL), or `{ token }` (tools).
   * Undefined: signed out, no connection. A rejection (the server cannot be reached) is retried
   * with the backoff.
   */
  credentials: () => Promise<Record<string, string> | undefined>;
  WebSocket?: typeof WebSocket;
  tickers?: (all: string[]) => string[];
  /** Channels to subscribe for those tickers (default: trades only). */
  channels?: Channel[];
  /**
   * Asks for batch mode (`batch`): the market messages come several to a WebSocket message, each
   * at most BATCH_MAX_DELAY_MS late; a page then dispatches ~60 message events a second, not ~2,000.
   */
  batch?: boolean;
  onBook?(frame: BookFrame): void;
  onCandles?(frame: CandlesFrame): void;
  onHello?(hello: Extract<ServerMessage, { type: 'hello' }>): void;
  onTrades?(ticker: string, trades: Trade[], replay: boolean): void;
  /** `tickers`: those the snapshot restarts (its quotes' and its `seqs`'). */
  onSnapshot?(quotes: Quote[], reason: string, tickers: string[]): void;
  onLink?(state: LinkState, detail?: { replaying?: number }): void;
  onMessage?(msg: ServerMessage): void;
  /** The server closed the socket (code, reason); the client reconnects after it either way. */
  onClose?(code: number, reason: string): void;
  isOnline?: () => boolean;
  maxBackoffMs?: number;
}

export class FeedClient {
  private ws: WebSocket | undefined;
  private stopped = false;
  private attempt = 0;
  private retry: ReturnType<typeof setTimeout> | undefined;
  /** Numbers the connects: credentials that come back after a newer connect began are dropped. */
  private generation = 0;
  private subscribed: string[] = [];
  /** The tickers whose book is watched (the price ladder's): subscribed again on each connect. */
  private books: string[] = [];
  private readonly lastSeq = new Map<string, number>();
  /** The trade at lastSeq (from a trade, or a quote that names it), sent with `since`. */
  private readonly lastTrade = new Map<string, TradeMark>();
  private pendingReplay = 0;
  /** Tickers waiting for a replay after a gap: their live frames are in that replay. */
  private readonly resyncing = new Set<string>();
  /** Events received out of order (a gap) are counted, never applied. */
  gapsDetected = 0;

  constructor(private readonly opts: FeedClientOptions) {}

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retry);
    this.ws?.close(1000, 'client stopped');
  }

  /** The network came back: reconnect at once instead of waiting out the backoff. */
  reconnectNow() {
    if (this.stopped) return;
    clearTimeout(this.retry);
    this.attempt = 0;
    if (this.ws && this.ws.readyState <= 1) return; // connecting or open
    this.connect();
  }

  /** The network is gone: drop the socket now rather than trust it until a timeout. */
  dropConnection() {
    this.ws?.close(4000, 'network offline');
  }

  /** The last sequence applied without a gap, per ticker. */
  seq(ticker: string): number | undefined {
    return this.lastSeq.get(ticker);
  }

  send(msg: ClientMessage) {
    if (this.ws?.readyState === 1) this.ws.send(JSON.stringify(msg));
  }

  private connect() {
    if (this.stopped) return;
    const generation = ++this.generation;
    this.opts.credentials().then(
      (query) => {
        if (query && !this.stopped && generation === this.generation) this.open(query);
      },
      () => {
        if (!this.stopped && generation === this.generation) this.retryLater();
      },
    );
  }

  /** Not connected (closed, or no credentials from an unreachable server): says so, then retries. */
  private retryLater() {
    this.opts.onLink?.((this.opts.isOnline?.() ?? true) ? 'reconnecting' : 'offline');
    const cap = this.opts.maxBackoffMs ?? 10_000;
    const delay = Math.min(cap, 250 * 2 ** this.attempt++) * (0.5 + Math.random() / 2);
    clearTimeout(this.retry);
    this.retry = setTimeout(() => this.connect(), delay);
  }

  private open(query: Record<string, string>) {
    const url = new URL(this.opts.url);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const Ctor = this.opts.WebSocket ?? WebSocket;
    const ws = new Ctor(url.toString());
    this.ws = ws;
    ws.binaryType = 'arraybuffer';
    ws.onmessage = (ev: MessageEvent) => this.onMessage(ev.data);
    // A failed connection is followed by a close, which schedules the retry. (Node's `ws`
    // throws an error event nobody listens to, which would end the retries.)
    ws.onerror = () => {};
    ws.onclose = (ev: CloseEvent) => {
      if (this.ws !== ws || this.stopped) return;
      this.opts.onClose?.(ev.code, ev.reason);
      // A 4401 (the token expired) needs nothing more: the next credentials come with a fresh one.
      this.retryLater();
    };
  }

  private onMessage(data: unknown) {
    if (typeof data === 'string') return this.onText(JSON.parse(data) as ServerMessage);
    const bytes = new Uint8Array(data as ArrayBuffer);
    if (!isBatch(bytes)) return this.onFrame(decodeFrame(bytes));
    // Every message of a batch decoded before any is applied: a malformed batch applies none.
    const messages: Array<Frame | ServerMessage> = decodeBatch(bytes).map((m) =>
      typeof m === 'string' ? (JSON.parse(m) as ServerMessage) : decodeFrame(m),
    );
    for (const m of messages) {
      if ('type' in m) this.onText(m);
      else this.onFrame(m);
    }
  }

  private onText(msg: ServerMessage) {
    this.opts.onMessage?.(msg);
    switch (msg.type) {
      case 'hello': {
        this.attempt = 0;
        if (this.opts.batch) this.send({ type: 'batch' });
        this.subscribed = this.opts.tickers ? this.opts.tickers(msg.tickers) : msg.tickers;
        this.opts.onHello?.(msg);
        this.subscribe(this.subscribed);
        for (const channel of this.opts.channels ?? []) {
          if (channel !== 'trades') this.send({ type: 'sub', channel, tickers: this.subscribed });
        }
        const books = this.books.filter((t) => this.subscribed.includes(t));
        if (books.length) this.send({ type: 'sub', channel: 'book', tickers: books });
        break;
      }
      case 'snapshot':
        // A snapshot restarts the sequence from its quote: later events continue from there.
        for (const q of msg.quotes) {
          this.lastSeq.set(q.ticker, q.seq);
          if (q.tradeNumber === undefined) this.lastTrade.delete(q.ticker);
          else this.lastTrade.set(q.ticker, { tradeNumber: q.tradeNumber, time: q.time });
          this.resyncing.delete(q.ticker);
        }
        // …or from the server's own head, which it names for a catch-up even without a quote.
        // After `rewound` the server's numbering is not ours (a crash lost events we had been
        // sent): we take its head, else its new events would look like repeats or be skipped.
        for (const [ticker, seq] of Object.entries(msg.seqs ?? {})) {
          // The trade there is known only from a quote of this snapshot at that very seq.
          if (!msg.quotes.some((q) => q.ticker === ticker && q.seq === seq)) this.lastTrade.delete(ticker);
          this.lastSeq.set(ticker, seq);
          this.resyncing.delete(ticker);
        }
        this.opts.onSnapshot?.(msg.quotes, msg.reason, [
          ...new Set([...msg.quotes.map((q) => q.ticker), ...Object.keys(msg.seqs ?? {})]),
        ]);
        break;
      case 'replay':
        this.resyncing.delete(msg.ticker);
        this.pendingReplay += Math.max(0, msg.to - msg.from + 1);
        this.opts.onLink?.('replaying', { replaying: this.pendingReplay });
        break;
      case 'subscribed':
      case 'live':
        if (this.pendingReplay === 0) this.opts.onLink?.('live');
        break;
      case 'conflated':
        this.opts.onLink?.('conflated');
        break;
      case 'error':
        // The server could not catch this socket up: subscribe again without `since`. The
        // snapshot that answers restarts every ticker's sequence and names the gap.
        if (msg.code === 'replay_failed') {
          this.lastSeq.clear();
          this.lastTrade.clear();
          this.resyncing.clear();
          this.pendingReplay = 0;
          this.subscribe(this.subscribed);
        }
        break;
      default:
        break;
    }
  }

  /**
   * Watches the books of these tickers only (the price ladder's): the ones dropped are
   * unsubscribed, the new ones subscribed, now if connected and again on every connect. The
   * server answers a subscription with the current book, then each change.
   */
  watchBooks(tickers: readonly string[]) {
    const gone = this.books.filter((t) => !tickers.includes(t));
    const added = tickers.filter((t) => !this.books.includes(t));
    this.books = [...tickers];
    if (gone.length) this.send({ type: 'unsub', channel: 'book', tickers: gone });
    if (added.length) this.send({ type: 'sub', channel: 'book', tickers: added });
  }

  private subscribe(tickers: string[]) {
    const since: Record<string, number> = {};
    const sinceTrade: Record<string, TradeMark> = {};
    for (const t of tickers) {
      const s = this.lastSeq.get(t);
      if (s !== undefined) since[t] = s;
      const mark = this.lastTrade.get(t);
      if (s !== undefined && mark) sinceTrade[t] = mark;
    }
    this.send({
      type: 'sub',
      channel: 'trades',
      tickers,
      ...(Object.keys(since).length ? { since } : {}),
      ...(Object.keys(sinceTrade).length ? { sinceTrade } : {}),
    });
  }

  private onFrame(frame: Frame) {
    if (frame.kind === FrameKind.book) return this.opts.onBook?.(frame);
    if (frame.kind === FrameKind.candles) return this.opts.onCandles?.(frame);
    const replay = (frame.flags & FrameFlag.replay) !== 0;
    if (replay) {
      this.pendingReplay = Math.max(0, this.pendingReplay - frame.trades.length);
      this.opts.onLink?.(this.pendingReplay > 0 ? 'replaying' : 'live', { replaying: this.pendingReplay });
    }
    if (this.resyncing.has(frame.ticker)) return; // these events come again in the replay
    let last = this.lastSeq.get(frame.ticker);
    const fresh: Trade[] = [];
    for (const t of frame.trades) {
      if (last !== undefined && t.seq <= last) continue; // already applied
      if (last !== undefined && t.seq > last + 1) {
        // A gap: apply nothing past it and ask for everything after the last applied seq.
        this.gapsDetected++;
        this.resyncing.add(frame.ticker);
        this.subscribe([frame.ticker]);
        break;
      }
      fresh.push(t);
      last = t.seq;
    }
    if (fresh.length > 0) {
      const t = fresh[fresh.length - 1] as Trade;
      this.lastSeq.set(frame.ticker, last as number);
      this.lastTrade.set(frame.ticker, { tradeNumber: t.tradeNumber, time: t.time });
      this.opts.onTrades?.(frame.ticker, fresh, replay);
    }
  }
}
