import type { AlertFiringJson, AlertJson, NotificationPayload } from './alerts.ts';
// Tape's market-data wire protocol on /ws, shared by the server and the app (no Node imports).
// Control messages are JSON text frames with a `type`; market events are binary frames in the
// layout below, encoded once per batch and published as bytes. See docs/protocol.md.

import type { BracketJson, DayPnl, OrderJson, PositionJson } from './orders.ts';

export const PROTOCOL_VERSION = 1;

export const FrameKind = { trades: 1, book: 2, candles: 3 } as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];
/**
 * Byte 1 of a batch frame: several of a socket's messages in one WebSocket message (a socket
 * that sent `batch`), each a market frame or a JSON control message, in the order sent.
 */
export const BATCH_KIND = 4;
/** What a batch entry holds: a market frame, or a JSON message's UTF-8 text. */
export const BatchEntry = { frame: 1, text: 2 } as const;
/** A socket in batch mode gets its market messages at most this late (docs/protocol.md). */
export const BATCH_MAX_DELAY_MS = 16;

export const FrameFlag = {
  /** The events are a replay of ones the client missed, not live. */
  replay: 1,
} as const;

export const TradeFlag = { edited: 1 } as const;

export interface Trade {
  readonly ticker: string;
  /** Per-ticker sequence number, contiguous from 1. */
  readonly seq: number;
  /** Exchange time of the trade, ms since the epoch. */
  readonly time: number;
  readonly price: number;
  readonly qty: number;
  readonly tradeNumber: number;
  readonly buyAgent: number;
  readonly sellAgent: number;
  readonly tradeType: number;
  readonly flags: number;
  /** When the capture shim copied the callback, ms since the epoch (fractional). */
  readonly capturedAt: number;
}

export interface BookLevel {
  readonly price: number;
  readonly qty: number;
  readonly count: number;
}

export interface Candle {
  /** Start of the bucket, ms since the epoch. */
  readonly time: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly trades: number;
}

interface FrameHead {
  readonly version: number;
  readonly flags: number;
  readonly ticker: string;
}
export interface TradesFrame extends FrameHead {
  readonly kind: typeof FrameKind.trades;
  readonly trades: Trade[];
}
export interface BookFrame extends FrameHead {
  readonly kind: typeof FrameKind.book;
  /** Bumped on every change of the server's book. */
  readonly bookVersion: number;
  readonly time: number;
  readonly bids: BookLevel[];
  readonly asks: BookLevel[];
}
export interface CandlesFrame extends FrameHead {
  readonly kind: typeof FrameKind.candles;
  /** Bucket width in seconds. */
  readonly tf: number;
  readonly candles: Candle[];
}
export type Frame = TradesFrame | BookFrame | CandlesFrame;

// Every frame: version u8, kind u8, flags u8, ticker length u8, ticker ASCII, count u16, then a
// fixed prefix and `count` fixed-size records, both by kind (docs/protocol.md):
//   trades  prefix 0;  record 52: seq f64, time f64, price f64, capturedAt f64, qty i32,
//                      tradeNumber u32, buyAgent i32, sellAgent i32, tradeType u8, flags u8, pad 2
//   book    prefix 16: bookVersion f64, time f64; record 24: price f64, qty f64, count u32,
//                      side u8 (0 bid, 1 ask), pad 3 — bids best first, then asks best first
//   candles prefix 8:  tf u32, pad 4; record 56: time, open, high, low, close, volume f64, trades u32, pad 4
const LAYOUT = {
  [FrameKind.trades]: { prefix: 0, record: 52 },
  [FrameKind.book]: { prefix: 16, record: 24 },
  [FrameKind.candles]: { prefix: 8, record: 56 },
} as const;
export const TRADE_RECORD_BYTES = LAYOUT[FrameKind.trades].record;
export const MAX_TICKER_BYTES = 16;
export const MAX_BATCH = 65_535;

export class FrameError extends Error {
  override name = 'FrameError';
}

/** Allocates a frame and writes its header; returns the view and the offset of the first record. */
function frame(kind: FrameKind, ticker: string, count: number, flags: number) {
  if (ticker.length === 0 || ticker.length > MAX_TICKER_BYTES || !/^[\x20-\x7e]+$/.test(ticker)) {
    throw new FrameError(`ticker must be 1-${MAX_TICKER_BYTES} printable ASCII characters`);
  }
  if (count > MAX_BATCH) throw new FrameError(`at most ${MAX_BATCH} records per frame`);
  const { prefix, record } = LAYOUT[kind];
  const head = 6 + ticker.length;
  const bytes = new Uint8Array(head + prefix + count * record);
  const v = new DataView(bytes.buffer);
  bytes[0] = PROTOCOL_VERSION;
  bytes[1] = kind;
  bytes[2] = flags;
  bytes[3] = ticker.length;
  for (let i = 0; i < ticker.length; i++) bytes[4 + i] = ticker.charCodeAt(i);
  v.setUint16(4 + ticker.length, count, true);
  return { bytes, v, prefixAt: head, at: head + prefix };
}

/** Encodes trades of ONE ticker into a single binary frame. */
export function encodeTrades(ticker: string, trades: readonly Trade[], flags = 0): Uint8Array {
  const { bytes, v, at } = frame(FrameKind.trades, ticker, trades.length, flags);
  let o = at;
  for (const t of trades) {
    v.setFloat64(o, t.seq, true);
    v.setFloat64(o + 8, t.time, true);
    v.setFloat64(o + 16, t.price, true);
    v.setFloat64(o + 24, t.capturedAt, true);
    v.setInt32(o + 32, t.qty, true);
    v.setUint32(o + 36, t.tradeNumber, true);
    v.setInt32(o + 40, t.buyAgent, true);
    v.setInt32(o + 44, t.sellAgent, true);
    bytes[o + 48] = t.tradeType;
    bytes[o + 49] = t.flags;
    o += TRADE_RECORD_BYTES;
  }
  return bytes;
}

/** Encodes the top of a book: bids then asks, each best first. */
export function encodeBook(
  ticker: string,
  bookVersion: number,
  time: number,
  bids: readonly BookLevel[],
  asks: readonly BookLevel[],
): Uint8Array {
  const { bytes, v, prefixAt, at } = frame(FrameKind.book, ticker, bids.length + asks.length, 0);
  v.setFloat64(prefixAt, bookVersion, true);
  v.setFloat64(prefixAt + 8, time, true);
  let o = at;
  for (const [side, levels] of [bids, asks].entries()) {
    for (const l of levels) {
      v.setFloat64(o, l.price, true);
      v.setFloat64(o + 8, l.qty, true);
      v.setUint32(o + 16, l.count, true);
      bytes[o + 20] = side;
      o += LAYOUT[FrameKind.book].record;
    }
  }
  return bytes;
}

export function encodeCandles(ticker: string, tf: number, candles: readonly Candle[]): Uint8Array {
  const { bytes, v, prefixAt, at } = frame(FrameKind.candles, ticker, candles.length, 0);
  v.setUint32(prefixAt, tf, true);
  let o = at;
  for (const c of candles) {
    const fields = [c.time, c.open, c.high, c.low, c.close, c.volume];
    for (let i = 0; i < fields.length; i++) v.setFloat64(o + i * 8, fields[i] as number, true);
    v.setUint32(o + 48, c.trades, true);
    o += LAYOUT[FrameKind.candles].record;
  }
  return bytes;
}

/** Decodes a binary frame; throws FrameError on anything malformed (never returns garbage). */
export function decodeFrame(data: ArrayBuffer | Uint8Array): Frame {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 7) throw new FrameError('frame shorter than its header');
  const version = bytes[0] as number;
  if (version !== PROTOCOL_VERSION) throw new FrameError(`unsupported protocol version ${version}`);
  const kind = bytes[1] as number;
  const layout = LAYOUT[kind as FrameKind];
  if (!layout) throw new FrameError(`unknown frame kind ${kind}`);
  const flags = bytes[2] as number;
  const tickerLen = bytes[3] as number;
  if (tickerLen === 0 || tickerLen > MAX_TICKER_BYTES) throw new FrameError('bad ticker length');
  const head = 6 + tickerLen;
  if (bytes.length < head) throw new FrameError('frame shorter than its header');
  let ticker = '';
  for (let i = 0; i < tickerLen; i++) {
    const c = bytes[4 + i] as number;
    if (c < 0x20 || c > 0x7e) throw new FrameError('ticker is not printable ASCII');
    ticker += String.fromCharCode(c);
  }
  const count = v.getUint16(4 + tickerLen, true);
  if (bytes.length !== head + layout.prefix + count * layout.record) {
    throw new FrameError(`frame length ${bytes.length} does not match ${count} records of kind ${kind}`);
  }
  const p = head;
  let o = head + layout.prefix;
  if (kind === FrameKind.trades) {
    const trades: Trade[] = new Array(count);
    for (let i = 0; i < count; i++, o += layout.record) {
      trades[i] = {
        ticker,
        seq: v.getFloat64(o, true),
        time: v.getFloat64(o + 8, true),
        price: v.getFloat64(o + 16, true),
        capturedAt: v.getFloat64(o + 24, true),
        qty: v.getInt32(o + 32, true),
        tradeNumber: v.getUint32(o + 36, true),
        buyAgent: v.getInt32(o + 40, true),
        sellAgent: v.getInt32(o + 44, true),
        tradeType: bytes[o + 48] as number,
        flags: bytes[o + 49] as number,
      };
    }
    return { version, kind: FrameKind.trades, flags, ticker, trades };
  }
  if (kind === FrameKind.book) {
    const bids: BookLevel[] = [];
    const asks: BookLevel[] = [];
    for (let i = 0; i < count; i++, o += layout.record) {
      const side = bytes[o + 20] as number;
      if (side > 1 || (side === 0 && asks.length > 0)) throw new FrameError('book levels out of order');
      (side === 0 ? bids : asks).push({
        price: v.getFloat64(o, true),
        qty: v.getFloat64(o + 8, true),
        count: v.getUint32(o + 16, true),
      });
    }
    return {
      version,
      kind: FrameKind.book,
      flags,
      ticker,
      bookVersion: v.getFloat64(p, true),
      time: v.getFloat64(p + 8, true),
      bids,
      asks,
    };
  }
  const candles: Candle[] = new Array(count);
  for (let i = 0; i < count; i++, o += layout.record) {
    const f = (k: number) => v.getFloat64(o + k * 8, true);
    candles[i] = {
      time: f(0),
      open: f(1),
      high: f(2),
      low: f(3),
      close: f(4),
      volume: f(5),
      trades: v.getUint32(o + 48, true),
    };
  }
  return { version, kind: FrameKind.candles, flags, ticker, tf: v.getUint32(p, true), candles };
}

// Batch frame: version u8, kind u8 (4), flags u8 (0), reserved u8 (0), count u16, then `count`
// entries: type u8 (1 market frame, 2 JSON text), length u32, that many bytes (docs/protocol.md).
const BATCH_HEAD = 6;
const ENTRY_HEAD = 5;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** One message of a batch, already encoded: a market frame, or a JSON message's UTF-8 bytes. */
export interface BatchPart {
  readonly text: boolean;
  readonly bytes: Uint8Array;
}

/** Joins messages into one batch frame, in order. */
export function encodeBatch(parts: readonly BatchPart[]): Uint8Array {
  if (parts.length > MAX_BATCH) throw new FrameError(`at most ${MAX_BATCH} messages per batch`);
  let size = BATCH_HEAD;
  for (const p of parts) size += ENTRY_HEAD + p.bytes.length;
  const bytes = new Uint8Array(size);
  const v = new DataView(bytes.buffer);
  bytes[0] = PROTOCOL_VERSION;
  bytes[1] = BATCH_KIND;
  v.setUint16(4, parts.length, true);
  let o = BATCH_HEAD;
  for (const p of parts) {
    bytes[o] = p.text ? BatchEntry.text : BatchEntry.frame;
    v.setUint32(o + 1, p.bytes.length, true);
    bytes.set(p.bytes, o + ENTRY_HEAD);
    o += ENTRY_HEAD + p.bytes.length;
  }
  return bytes;
}

/** True when a binary message is a batch frame (decode it with decodeBatch, not decodeFrame). */
export const isBatch = (data: Uint8Array) => data.length > 1 && data[1] === BATCH_KIND;

/**
 * The messages of a batch frame, in order: market frames as views into it (decode each with
 * decodeFrame), JSON messages as their text. Throws FrameError on anything malformed: a length
 * past the end or short of it, an unknown entry type, a batch inside a batch, text not UTF-8.
 */
export function decodeBatch(data: ArrayBuffer | Uint8Array): Array<Uint8Array | string> {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < BATCH_HEAD) throw new FrameError('batch shorter than its header');
  if (bytes[0] !== PROTOCOL_VERSION) throw new FrameError(`unsupported protocol version ${bytes[0]}`);
  if (bytes[1] !== BATCH_KIND) throw new FrameError(`not a batch frame (kind ${bytes[1]})`);
  if (bytes[2] !== 0 || bytes[3] !== 0) throw new FrameError('batch flags and reserved byte must be 0');
  const count = v.getUint16(4, true);
  const out: Array<Uint8Array | string> = new Array(count);
  let o = BATCH_HEAD;
  for (let i = 0; i < count; i++) {
    if (bytes.length - o < ENTRY_HEAD) throw new FrameError(`batch ends inside entry ${i}'s header`);
    const type = bytes[o] as number;
    const length = v.getUint32(o + 1, true);
    const start = o + ENTRY_HEAD;
    if (length > bytes.length - start) throw new FrameError(`batch entry ${i} runs past the end`);
    const body = bytes.subarray(start, start + length);
    if (type === BatchEntry.frame) {
      if (isBatch(body)) throw new FrameError('a batch may not hold a batch');
      out[i] = body;
    } else if (type === BatchEntry.text) {
      try {
        out[i] = utf8.decode(body);
      } catch {
        throw new FrameError(`batch entry ${i} is not UTF-8 text`);
      }
    } else throw new FrameError(`unknown batch entry type ${type}`);
    o = start + length;
  }
  if (o !== bytes.length)
    throw new FrameError(`batch has ${bytes.length - o} bytes after its ${count} entries`);
  return out;
}

// ---- JSON control messages ----

export const CHANNELS = ['trades', 'book', 'candles'] as const;
export type Channel = (typeof CHANNELS)[number];
/** Live candles are 1-minute bars; longer timeframes come from REST history plus these. */
export const LIVE_CANDLE_SECONDS = 60;
export const BOOK_DEPTH = 10;

export interface Quote {
  readonly ticker: string;
  readonly exchange: string;
  readonly seq: number;
  readonly last: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  /** Cumulative quantity traded today. */
  readonly volume: number;
  readonly trades: number;
  /** Exchange time of the last trade, ms since the epoch. */
  readonly time: number;
  /** Trade number of the last trade (the one at `seq`): with `time`, a client's `sinceTrade`. */
  readonly tradeNumber?: number;
  /** The exchange's price limits for the day (the DLL's daily event), when it sets them. */
  readonly minLimit?: number;
  readonly maxLimit?: number;
  /**
   * The previous session's close (GetLastDailyClose, or the last trade of the quote's previous
   * day): B3 measures the day's change against it.
   */
  readonly previousClose?: number;
  /** Σ price × quantity of the day's trades, in price units: times the multiplier, reais traded. */
  readonly turnover?: number;
  /** The book's best bid and ask with their quantities, when the server sent them (snapshots). */
  readonly top?: Top;
}

/** The best bid and ask of a ticker's book with their quantities; a side is absent when empty. */
export interface Top {
  readonly bid?: number;
  readonly bidQty?: number;
  readonly ask?: number;
  readonly askQty?: number;
}

/**
 * Where a ticker's history of the session stands (the server's backfill, market/backfill.ts):
 * `filling` while the DLL is asked for the session so far (the ticker is not live yet), then
 * `live`, or `failed` when part of it could not be had (the ticker is live, the day has a hole
 * the server reported).
 */
export interface BackfillStatus {
  readonly ticker: string;
  readonly state: 'filling' | 'live' | 'failed';
  /** 0..100; 100 once the ticker is live. */
  readonly percent: number;
  /** History trades received so far; once live, those added to the day (not stored before). */
  readonly trades: number;
  /** The range asked, ms since the epoch (from the session's open or the last stored trade). */
  readonly from: number;
  readonly to: number;
  /** Why it failed, for the operator. */
  readonly reason?: string;
}

/** The day's figures as the DLL's daily event gives them (capture.ts `captureDay`). */
export interface DayStats {
  /** Exchange time of the event, ms since the epoch: which session day the figures are of. */
  readonly time: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  /** Quantity traded in the session. */
  readonly qty: number;
  readonly trades: number;
  /** 0 when the exchange sets none. */
  readonly minLimit: number;
  readonly maxLimit: number;
}

/** B3 runs on Brasília time: UTC−3, with no daylight saving since 2019. */
export const B3_UTC_OFFSET_MS = -3 * 3_600_000;
/** The B3 session day of an instant, as a day number: quotes and realized P&L start afresh when it changes. */
export const b3Day = (ms: number) => Math.floor((ms + B3_UTC_OFFSET_MS) / 86_400_000);

/** TStateCallback ROUTING's "broker connected" (API.md): orders go out only in it. */
export const BROKER_CONNECTED = 5;

export interface ConnectorStatus {
  readonly login: number | null;
  readonly routing: number | null;
  readonly marketData: number | null;
  readonly activation: number | null;
  readonly connected: boolean;
}

/** A broker ("agente") behind trades, by its B3 code: short name (e.g. "XP") and full name. */
export interface AgentJson {
  readonly id: number;
  readonly short: string;
  readonly name: string;
}

export interface InstrumentInfo {
  readonly ticker: string;
  readonly exchange: string;
  readonly tickSize: number;
  readonly lotSize: number;
  readonly priceDecimals: number;
  /** Reais per point per unit (1 for stocks, 0.2 for WIN, 10 for WDO): how the app marks P&L live. */
  readonly multiplier: number;
}

/** Which trade a client holds at a seq: enough to tell it from another trade numbered the same. */
export interface TradeMark {
  readonly tradeNumber: number;
  /** Exchange time, ms since the epoch. */
  readonly time: number;
}

export type ClientMessage =
  | { type: 'auth'; token: string }
  /**
   * `since` asks for every event after that sequence (per ticker) before going live;
   * `sinceTrade` names the client's trade at that sequence, which the server checks against its
   * own (a different one: `rewound`).
   */
  | {
      type: 'sub';
      channel: Channel;
      tickers: string[];
      since?: Record<string, number>;
      sinceTrade?: Record<string, TradeMark>;
    }
  | { type: 'unsub'; channel: Channel; tickers: string[] }
  /**
   * From now on, the socket's market messages (its channels' frames and JSON, and the replies
   * among them) come joined in batch frames, each at most BATCH_MAX_DELAY_MS late.
   */
  | { type: 'batch' }
  | { type: 'ping'; id?: number };

/**
 * Why a `snapshot` was sent. `subscribe`: a subscription without `since`; `gap_too_large`: the
 * missed events are no longer kept: start from this state; `rewound`: the server's history is
 * behind or other than the client's — `since` is past the server's last seq, or the server's
 * trade at `since` is not the client's `sinceTrade` (the client received live events a crash
 * lost before they were stored, and the restarted server numbered new events from its stored
 * head): drop the ticker's sequence and continue from `seqs`; `conflated`: latest state only.
 */
export type SnapshotReason = 'subscribe' | 'gap_too_large' | 'rewound' | 'conflated';

export type ServerMessage =
  | {
      type: 'hello';
      protocol: number;
      user: { username: string; role: string };
      tickers: string[];
      /** Trading rules per ticker: the app checks prices and quantities and formats with them. */
      instruments: InstrumentInfo[];
    }
  | {
      type: 'snapshot';
      quotes: Quote[];
      reason: SnapshotReason;
      /** Catch-up snapshots: the server's last seq per ticker; its events continue from there. */
      seqs?: Record<string, number>;
    }
  | { type: 'replay'; ticker: string; from: number; to: number }
  /** On the trades channel: the ticker's history backfill, as it fills (at most 5 a second) and ends. */
  | ({ type: 'backfill' } & BackfillStatus)
  /** On the trades channel: the exchange's figures for the ticker's day changed (open, limits, a new day). */
  | { type: 'day'; ticker: string; day: DayStats }
  /** On the trades channel: the book's best bid and ask changed (at most once per drain). */
  | { type: 'top'; ticker: string; top: Top }
  /** On the trades channel: the previous session's close, once the DLL has answered it. */
  | { type: 'previousClose'; ticker: string; close: number }
  | { type: 'subscribed'; channel: Channel; tickers: string[] }
  /** The socket fell behind: it gets conflated snapshots until it catches up, then `live`. */
  | { type: 'conflated' }
  | { type: 'live' }
  | { type: 'unsubscribed'; channel: Channel; tickers: string[] }
  | { type: 'connector'; status: ConnectorStatus }
  /**
   * The brokers trades name (buyAgent/sellAgent codes): every one known when the socket
   * connects, then each newly named one. A code never named here is shown as its number.
   */
  | { type: 'agents'; agents: AgentJson[] }
  /** Pushed to the account's own sockets (orders/wire.ts). */
  | { type: 'order'; order: OrderJson }
  | { type: 'bracket'; bracket: BracketJson }
  | { type: 'position'; account: string; position: PositionJson; day: DayPnl }
  /**
   * To the user's own sockets: one of their alerts fired (alerts/service.ts); `notification` is
   * what to show when Tape is in the background, null when quiet hours or the rate held it.
   */
  | { type: 'alert'; alert: AlertJson; firing: AlertFiringJson; notification: NotificationPayload | null }
  /** One of the user's alerts changed by itself (it expired). */
  | { type: 'alertChanged'; alert: AlertJson }
  /** The firings the user's rate held back in the last minute, told as one notification. */
  | { type: 'alertSummary'; count: number; notification: NotificationPayload }
  /** To admins' sockets only: the open dead letters, at connect and whenever the number changes. */
  | { type: 'deadLetters'; open: number }
  | { type: 'error'; code: string; message: string }
  | { type: 'pong'; id?: number; time: number };

/** Folds trades of one ticker into its quote: the one rule the server and the app both use. */
export function applyTrades(
  prev: Quote | undefined,
  exchange: string,
  trades: readonly Trade[],
): Quote | undefined {
  // One object per run of same-day trades, not one per trade: this runs for every trade.
  let q = prev;
  let i = 0;
  while (i < trades.length) {
    const first = trades[i] as Trade;
    const day = b3Day(first.time);
    // A new session day starts a new quote: yesterday's open, range and volume are not today's.
    // A new day's previous close is the last price of the day before, as far as this quote knew it.
    const base: Quote =
      q && b3Day(q.time) === day
        ? q
        : {
            ticker: first.ticker,
            exchange,
            seq: 0,
            last: first.price,
            open: first.price,
            high: first.price,
            low: first.price,
            volume: 0,
            trades: 0,
            time: first.time,
            turnover: 0,
            ...(q && b3Day(q.time) < day ? { previousClose: q.last } : {}),
            ...(q?.top ? { top: q.top } : {}),
          };
    let { high, low, volume, trades: count } = base;
    let turnover = base.turnover ?? 0;
    let t = first;
    for (; i < trades.length; i++) {
      const next = trades[i] as Trade;
      if (b3Day(next.time) !== day) break;
      t = next;
      if (t.price > high) high = t.price;
      if (t.price < low) low = t.price;
      volume += t.qty;
      turnover += t.price * t.qty;
      count++;
    }
    q = {
      ...base,
      seq: t.seq,
      last: t.price,
      high,
      low,
      volume,
      trades: count,
      turnover,
      time: t.time,
      tradeNumber: t.tradeNumber,
    };
  }
  return q;
}

/**
 * The quote with the exchange's figures for its session day: the open is the exchange's, the
 * range and the cumulative figures cover trades from before this process started too (each
 * only ever widens or grows), and the day's price limits are added. Figures of another day are
 * left out.
 */
export function withDay(q: Quote, day: DayStats | undefined): Quote {
  if (!day || b3Day(day.time) !== b3Day(q.time) || day.open <= 0) return q;
  return {
    ...q,
    open: day.open,
    high: Math.max(q.high, day.high),
    low: Math.min(q.low, day.low),
    volume: Math.max(q.volume, day.qty),
    trades: Math.max(q.trades, day.trades),
    ...(day.minLimit > 0 && day.maxLimit > 0 ? { minLimit: day.minLimit, maxLimit: day.maxLimit } : {}),
  };
}
