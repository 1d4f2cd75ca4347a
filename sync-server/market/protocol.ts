// Tape's market-data wire protocol on /ws, shared by the server and the app (no Node imports).
// Control messages are JSON text frames with a `type`; market events are binary frames in the
// layout below, encoded once per batch and published as bytes. See docs/protocol.md.

export const PROTOCOL_VERSION = 1;

export const FrameKind = { trades: 1 } as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

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

export interface TradesFrame {
  readonly version: number;
  readonly kind: typeof FrameKind.trades;
  readonly flags: number;
  readonly ticker: string;
  readonly trades: Trade[];
}

// Header: version u8, kind u8, flags u8, ticker length u8, ticker ASCII, count u16.
// Trade record (48 bytes): seq f64, time f64, price f64, capturedAt f64, qty i32,
// tradeNumber u32, buyAgent i32, sellAgent i32 … then tradeType u8, flags u8, 2 bytes padding.
export const TRADE_RECORD_BYTES = 52;
export const MAX_TICKER_BYTES = 16;
export const MAX_BATCH = 65_535;

export class FrameError extends Error {
  override name = 'FrameError';
}

const headerBytes = (ticker: string) => 6 + ticker.length;

/** Encodes trades of ONE ticker into a single binary frame. */
export function encodeTrades(ticker: string, trades: readonly Trade[], flags = 0): Uint8Array {
  if (ticker.length === 0 || ticker.length > MAX_TICKER_BYTES || !/^[\x20-\x7e]+$/.test(ticker)) {
    throw new FrameError(`ticker must be 1-${MAX_TICKER_BYTES} printable ASCII characters`);
  }
  if (trades.length > MAX_BATCH) throw new FrameError(`at most ${MAX_BATCH} trades per frame`);
  const head = headerBytes(ticker);
  const buf = new ArrayBuffer(head + trades.length * TRADE_RECORD_BYTES);
  const bytes = new Uint8Array(buf);
  const v = new DataView(buf);
  bytes[0] = PROTOCOL_VERSION;
  bytes[1] = FrameKind.trades;
  bytes[2] = flags;
  bytes[3] = ticker.length;
  for (let i = 0; i < ticker.length; i++) bytes[4 + i] = ticker.charCodeAt(i);
  v.setUint16(4 + ticker.length, trades.length, true);
  let o = head;
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

/** Decodes a binary frame; throws FrameError on anything malformed (never returns garbage). */
export function decodeFrame(data: ArrayBuffer | Uint8Array): TradesFrame {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 7) throw new FrameError('frame shorter than its header');
  const version = bytes[0] as number;
  if (version !== PROTOCOL_VERSION) throw new FrameError(`unsupported protocol version ${version}`);
  const kind = bytes[1] as number;
  if (kind !== FrameKind.trades) throw new FrameError(`unknown frame kind ${kind}`);
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
  if (bytes.length !== head + count * TRADE_RECORD_BYTES) {
    throw new FrameError(`frame length ${bytes.length} does not match ${count} trades`);
  }
  const trades: Trade[] = new Array(count);
  let o = head;
  for (let i = 0; i < count; i++) {
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
    o += TRADE_RECORD_BYTES;
  }
  return { version, kind: FrameKind.trades, flags, ticker, trades };
}

// ---- JSON control messages ----

export type Channel = 'trades';

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
}

export interface ConnectorStatus {
  readonly login: number | null;
  readonly routing: number | null;
  readonly marketData: number | null;
  readonly activation: number | null;
  readonly connected: boolean;
}

export interface InstrumentInfo {
  readonly ticker: string;
  readonly exchange: string;
  readonly tickSize: number;
  readonly lotSize: number;
  readonly priceDecimals: number;
}

export type ClientMessage =
  | { type: 'auth'; token: string }
  /** `since` asks for every event after that sequence (per ticker) before going live. */
  | { type: 'sub'; channel: Channel; tickers: string[]; since?: Record<string, number> }
  | { type: 'unsub'; channel: Channel; tickers: string[] }
  | { type: 'ping'; id?: number };

export type ServerMessage =
  | {
      type: 'hello';
      protocol: number;
      user: { username: string; role: string };
      tickers: string[];
      /** Trading rules per ticker: the app checks prices and quantities and formats with them. */
      instruments: InstrumentInfo[];
    }
  /** `gap_too_large`: the missed events are no longer kept; `conflated`: latest state only. */
  | { type: 'snapshot'; quotes: Quote[]; reason: 'subscribe' | 'gap_too_large' | 'conflated' }
  | { type: 'replay'; ticker: string; from: number; to: number }
  | { type: 'subscribed'; channel: Channel; tickers: string[] }
  /** The socket fell behind: it gets conflated snapshots until it catches up, then `live`. */
  | { type: 'conflated' }
  | { type: 'live' }
  | { type: 'unsubscribed'; channel: Channel; tickers: string[] }
  | { type: 'connector'; status: ConnectorStatus }
  | { type: 'error'; code: string; message: string }
  | { type: 'pong'; id?: number; time: number };

export const topicFor = (channel: Channel, ticker: string) => `md/${channel}/${ticker}`;

/** Folds trades of one ticker into its quote: the one rule the server and the app both use. */
export function applyTrades(
  prev: Quote | undefined,
  exchange: string,
  trades: readonly Trade[],
): Quote | undefined {
  let q = prev;
  for (const t of trades) {
    q = q
      ? {
          ...q,
          seq: t.seq,
          last: t.price,
          high: Math.max(q.high, t.price),
          low: Math.min(q.low, t.price),
          volume: q.volume + t.qty,
          trades: q.trades + 1,
          time: t.time,
        }
      : {
          ticker: t.ticker,
          exchange,
          seq: t.seq,
          last: t.price,
          open: t.price,
          high: t.price,
          low: t.price,
          volume: t.qty,
          trades: 1,
          time: t.time,
        };
  }
  return q;
}

/** A valid PETR4 trade with the given sequence, for tests and benchmarks; `patch` overrides fields. */
export const sampleTrade = (seq: number, patch: Partial<Trade> = {}): Trade => ({
  ticker: 'PETR4',
  seq,
  time: seq,
  price: 38.5,
  qty: 100,
  tradeNumber: seq,
  buyAgent: 1,
  sellAgent: 2,
  tradeType: 1,
  flags: 0,
  capturedAt: seq,
  ...patch,
});
