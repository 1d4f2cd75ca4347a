// The capture ring's records (native/capture/capture.h, docs/native.md): their layout and the
// decoder, plain TypeScript over ArrayBuffers with no koffi, so the feed and tests can read
// events without loading the binding.

export const RECORD_BYTES = 256;
/** Record kinds (byte 0 of a record). */
export const RecordKind = {
  state: 1,
  trade: 2,
  historyTrade: 3,
  daily: 4,
  priceBook: 5,
  offerBook: 6,
  tinyBook: 7,
  invalidTicker: 8,
  tickerState: 9,
  progress: 10,
  account: 11,
  order: 12,
} as const;
const FLAG_TRUNCATED = 1;
// Header and string slots, in bytes: A = ticker (or account, or ClOrderID), B = exchange, C = date (or text).
const OFF_FLAGS = 1;
const OFF_LEN_A = 2;
const OFF_LEN_B = 3;
const OFF_LEN_C = 4;
const OFF_NS = 8;
const OFF_FEED = 16;
const OFF_A = 24;
const UNITS_A = 24;
const OFF_B = 72;
const UNITS_B = 4;
const OFF_C = 80;
const UNITS_C = 32;
const P = 144; // payload

/** Fields every market record carries: the asset (TAssetIDRec) and when the shim copied it. */
interface AssetFields {
  readonly ticker: string;
  readonly exchange: string;
  readonly feed: number;
  /** A string was longer than its slot in the record: the copy holds its first code units. */
  readonly truncated: boolean;
  /** CLOCK_REALTIME when the shim copied the callback: ns since the epoch as a double (exact to 256 ns). */
  readonly capturedAtNs: number;
}

/**
 * One captured callback, raw and NOT validated. Strings are the UTF-16 code units the DLL
 * passed, lone surrogates included (check with `isWellFormed()`); a NULL pointer reads as ''.
 */
export type RawEvent =
  | {
      readonly kind: 'state';
      readonly connType: number;
      readonly result: number;
      readonly capturedAtNs: number;
    }
  | (AssetFields & {
      readonly kind: 'trade';
      /** From THistoryTradeCallback (a history request) rather than TNewTradeCallback. */
      readonly history: boolean;
      readonly date: string;
      readonly tradeNumber: number;
      readonly price: number;
      readonly volume: number;
      readonly qty: number;
      readonly buyAgent: number;
      readonly sellAgent: number;
      readonly tradeType: number;
      readonly isEdit: boolean;
      /** SetHistoryTradeCallbackV2's last-packet flag: the answer's last trade. Never set by V1. */
      readonly lastPacket?: boolean;
    })
  | (AssetFields & {
      readonly kind: 'daily';
      readonly date: string;
      readonly open: number;
      readonly high: number;
      readonly low: number;
      readonly close: number;
      readonly volume: number;
      readonly adjust: number;
      readonly maxLimit: number;
      readonly minLimit: number;
      readonly volBuyer: number;
      readonly volSeller: number;
      readonly qty: number;
      readonly trades: number;
      readonly openContracts: number;
      readonly qtyBuyer: number;
      readonly qtySeller: number;
      readonly tradesBuyer: number;
      readonly tradesSeller: number;
    })
  | (AssetFields & {
      readonly kind: 'priceBook';
      readonly action: number;
      readonly position: number;
      readonly side: number;
      readonly qty: number;
      readonly count: number;
      readonly price: number;
      readonly hasSellArray: boolean;
      readonly hasBuyArray: boolean;
    })
  | (AssetFields & {
      readonly kind: 'offerBook';
      readonly action: number;
      readonly position: number;
      readonly side: number;
      readonly qty: number;
      readonly agent: number;
      readonly offerId: bigint;
      readonly price: number;
      readonly date: string;
      readonly hasPrice: boolean;
      readonly hasQty: boolean;
      readonly hasDate: boolean;
      readonly hasOfferId: boolean;
      readonly hasAgent: boolean;
      readonly hasSellArray: boolean;
      readonly hasBuyArray: boolean;
    })
  | (AssetFields & {
      readonly kind: 'tinyBook';
      readonly price: number;
      readonly qty: number;
      readonly side: number;
    })
  | (AssetFields & { readonly kind: 'invalidTicker'; readonly version: number })
  | (AssetFields & { readonly kind: 'tickerState'; readonly date: string; readonly state: number })
  | (AssetFields & { readonly kind: 'progress'; readonly progress: number })
  | {
      readonly kind: 'account';
      readonly brokerId: number;
      readonly accountId: string;
      readonly holder: string;
      readonly truncated: boolean;
      readonly capturedAtNs: number;
    }
  | {
      /** TConnectorOrderCallback: an order changed; read it with orderDetails() outside the callback. */
      readonly kind: 'order';
      readonly localOrderId: bigint;
      readonly clOrderId: string;
      readonly version: number;
      readonly truncated: boolean;
      readonly capturedAtNs: number;
    }
  | { readonly kind: 'unknown'; readonly code: number; readonly capturedAtNs: number };

export type RawEventKind = RawEvent['kind'];

/** The only error decodeRecord throws: the offset does not hold a whole record of the buffer. */
export class RecordError extends RangeError {
  override name = 'RecordError';
}

/** Typed views over one ArrayBuffer; records decode from 8-byte-aligned byte offsets. */
export interface Views {
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly i32: Int32Array;
  readonly u32: Uint32Array;
  readonly f64: Float64Array;
}

export const viewsOf = (ab: ArrayBufferLike): Views => {
  const words = Math.floor(ab.byteLength / 8);
  return {
    u8: new Uint8Array(ab),
    u16: new Uint16Array(ab, 0, words * 4),
    i32: new Int32Array(ab, 0, words * 2),
    u32: new Uint32Array(ab, 0, words * 2),
    f64: new Float64Array(ab, 0, words),
  };
};

/**
 * Interns short UTF-16 strings: tickers repeat, and a date repeats for every event of its
 * millisecond, so a hit costs a compare instead of building and later collecting a string.
 */
class StringTable {
  private readonly keys: Uint16Array;
  private readonly lens: Int32Array;
  private readonly values: string[];
  constructor(
    private readonly slots: number,
    private readonly width: number,
  ) {
    this.keys = new Uint16Array(slots * width);
    this.lens = new Int32Array(slots).fill(-1);
    this.values = new Array<string>(slots).fill('');
  }

  get(u16: Uint16Array, start: number, len: number): string {
    if (len === 0) return '';
    let h = len;
    for (let i = 0; i < len; i++) h = Math.imul(h ^ (u16[start + i] as number), 0x9e3779b1);
    const slot = (h >>> 16) & (this.slots - 1);
    const base = slot * this.width;
    if (this.lens[slot] === len) {
      let i = 0;
      while (i < len && this.keys[base + i] === u16[start + i]) i++;
      if (i === len) return this.values[slot] as string;
    }
    // Code units as they are: a lone surrogate stays in the string for the validator to see.
    const s = String.fromCharCode.apply(null, u16.subarray(start, start + len) as unknown as number[]);
    this.keys.set(u16.subarray(start, start + len), base);
    this.lens[slot] = len;
    this.values[slot] = s;
    return s;
  }
}

const tickers = new StringTable(256, UNITS_A);
const exchanges = new StringTable(16, UNITS_B);
const texts = new StringTable(64, UNITS_C);

const str = (table: StringTable, v: Views, o: number, off: number, lenOff: number, units: number) =>
  table.get(v.u16, (o + off) >> 1, Math.min(v.u8[o + lenOff] as number, units));
const text = (v: Views, o: number) => str(texts, v, o, OFF_C, OFF_LEN_C, UNITS_C);
const f64 = (v: Views, o: number, off: number) => v.f64[(o + off) >> 3] as number;
const i32 = (v: Views, o: number, off: number) => v.i32[(o + off) >> 2] as number;
const u32 = (v: Views, o: number, off: number) => v.u32[(o + off) >> 2] as number;
const i64 = (v: Views, o: number, off: number) =>
  (BigInt(i32(v, o, off + 4)) << 32n) + BigInt(u32(v, o, off));
const flag = (v: Views, o: number, off: number) => v.u8[o + off] !== 0;

/** Decodes the record at byte offset o of v (o a multiple of 8). */
export function decodeAt(v: Views, o: number): RawEvent {
  const kind = v.u8[o] as number;
  const capturedAtNs = i32(v, o, OFF_NS + 4) * 4294967296 + u32(v, o, OFF_NS);
  if (kind === RecordKind.state)
    return { kind: 'state', connType: i32(v, o, P), result: i32(v, o, P + 4), capturedAtNs };
  if (kind < RecordKind.trade || kind > RecordKind.order)
    return { kind: 'unknown', code: kind, capturedAtNs };
  // A length beyond its slot cannot come from the shim; it is clamped rather than trusted.
  const truncated =
    ((v.u8[o + OFF_FLAGS] as number) & FLAG_TRUNCATED) !== 0 ||
    (v.u8[o + OFF_LEN_A] as number) > UNITS_A ||
    (v.u8[o + OFF_LEN_B] as number) > UNITS_B ||
    (v.u8[o + OFF_LEN_C] as number) > UNITS_C;
  if (kind === RecordKind.order) {
    return {
      kind: 'order',
      localOrderId: i64(v, o, P),
      clOrderId: str(tickers, v, o, OFF_A, OFF_LEN_A, UNITS_A),
      version: v.u8[o + P + 8] as number,
      truncated,
      capturedAtNs,
    };
  }
  if (kind === RecordKind.account) {
    return {
      kind: 'account',
      brokerId: i32(v, o, P),
      accountId: str(tickers, v, o, OFF_A, OFF_LEN_A, UNITS_A),
      holder: text(v, o),
      truncated,
      capturedAtNs,
    };
  }
  const ticker = str(tickers, v, o, OFF_A, OFF_LEN_A, UNITS_A);
  const exchange = str(exchanges, v, o, OFF_B, OFF_LEN_B, UNITS_B);
  const feed = i32(v, o, OFF_FEED);
  switch (kind) {
    case RecordKind.trade:
    case RecordKind.historyTrade:
      return {
        kind: 'trade',
        ticker,
        exchange,
        feed,
        date: text(v, o),
        tradeNumber: u32(v, o, P + 16),
        price: f64(v, o, P),
        volume: f64(v, o, P + 8),
        qty: i32(v, o, P + 20),
        buyAgent: i32(v, o, P + 24),
        sellAgent: i32(v, o, P + 28),
        tradeType: i32(v, o, P + 32),
        isEdit: flag(v, o, P + 36),
        lastPacket: flag(v, o, P + 37),
        history: kind === RecordKind.historyTrade,
        truncated,
        capturedAtNs,
      };
    case RecordKind.daily:
      return {
        kind: 'daily',
        ticker,
        exchange,
        feed,
        date: text(v, o),
        open: f64(v, o, P),
        high: f64(v, o, P + 8),
        low: f64(v, o, P + 16),
        close: f64(v, o, P + 24),
        volume: f64(v, o, P + 32),
        adjust: f64(v, o, P + 40),
        maxLimit: f64(v, o, P + 48),
        minLimit: f64(v, o, P + 56),
        volBuyer: f64(v, o, P + 64),
        volSeller: f64(v, o, P + 72),
        qty: i32(v, o, P + 80),
        trades: i32(v, o, P + 84),
        openContracts: i32(v, o, P + 88),
        qtyBuyer: i32(v, o, P + 92),
        qtySeller: i32(v, o, P + 96),
        tradesBuyer: i32(v, o, P + 100),
        tradesSeller: i32(v, o, P + 104),
        truncated,
        capturedAtNs,
      };
    case RecordKind.priceBook:
      return {
        kind: 'priceBook',
        ticker,
        exchange,
        feed,
        price: f64(v, o, P),
        action: i32(v, o, P + 8),
        position: i32(v, o, P + 12),
        side: i32(v, o, P + 16),
        qty: i32(v, o, P + 20),
        count: i32(v, o, P + 24),
        hasSellArray: flag(v, o, P + 28),
        hasBuyArray: flag(v, o, P + 29),
        truncated,
        capturedAtNs,
      };
    case RecordKind.offerBook:
      return {
        kind: 'offerBook',
        ticker,
        exchange,
        feed,
        date: text(v, o),
        price: f64(v, o, P),
        offerId: i64(v, o, P + 8),
        action: i32(v, o, P + 16),
        position: i32(v, o, P + 20),
        side: i32(v, o, P + 24),
        qty: i32(v, o, P + 28),
        agent: i32(v, o, P + 32),
        hasPrice: flag(v, o, P + 36),
        hasQty: flag(v, o, P + 37),
        hasDate: flag(v, o, P + 38),
        hasOfferId: flag(v, o, P + 39),
        hasAgent: flag(v, o, P + 40),
        hasSellArray: flag(v, o, P + 41),
        hasBuyArray: flag(v, o, P + 42),
        truncated,
        capturedAtNs,
      };
    case RecordKind.tinyBook:
      return {
        kind: 'tinyBook',
        ticker,
        exchange,
        feed,
        price: f64(v, o, P),
        qty: i32(v, o, P + 8),
        side: i32(v, o, P + 12),
        truncated,
        capturedAtNs,
      };
    case RecordKind.invalidTicker:
      return {
        kind: 'invalidTicker',
        ticker,
        exchange,
        feed,
        version: v.u8[o + P] as number,
        truncated,
        capturedAtNs,
      };
    case RecordKind.tickerState:
      return {
        kind: 'tickerState',
        ticker,
        exchange,
        feed,
        date: text(v, o),
        state: i32(v, o, P),
        truncated,
        capturedAtNs,
      };
    default: // progress
      return { kind: 'progress', ticker, exchange, feed, progress: i32(v, o, P), truncated, capturedAtNs };
  }
}

const viewCache = new WeakMap<ArrayBufferLike, Views>();
let scratch: Views | undefined;

/**
 * Decodes the record at `offset` of `buf`. Never throws for any record content (an unknown
 * kind decodes as `unknown`); throws RecordError only when `offset` does not start a whole
 * record inside `buf`.
 */
export function decodeRecord(buf: Uint8Array, offset: number): RawEvent {
  if (!Number.isInteger(offset) || offset < 0 || offset + RECORD_BYTES > buf.length)
    throw new RecordError(`no whole ${RECORD_BYTES}-byte record at offset ${offset} of ${buf.length} bytes`);
  const at = buf.byteOffset + offset;
  if (at % 8 === 0) {
    const v = viewCache.get(buf.buffer) ?? viewsOf(buf.buffer);
    viewCache.set(buf.buffer, v);
    return decodeAt(v, at);
  }
  scratch ??= viewsOf(new ArrayBuffer(RECORD_BYTES));
  scratch.u8.set(buf.subarray(offset, offset + RECORD_BYTES));
  return decodeAt(scratch, 0);
}
