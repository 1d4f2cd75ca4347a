import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import koffi, { type LibraryHandle, type TypeObject } from 'koffi';
import { DEFAULT_RING, RING_MAX, RING_MIN } from './captureRing.ts';
import { NL, ProfitDllError } from './errors.ts';

// The koffi binding to ProfitDLL — the only TypeScript that touches koffi. The same prototypes
// drive the real ProfitDLL64.dll on Windows and the simulator library on Linux. Callbacks handed
// to the DLL are C functions of the capture shim, which copy each event into a native ring;
// JS drains that ring in batches with one koffi call (docs/native.md).

function check(fn: string, code: number): void {
  if (code !== NL.OK) throw new ProfitDllError(fn, code);
}

// ---- capture records (native/capture/capture.h, docs/native.md) ----

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
interface Views {
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly i32: Int32Array;
  readonly u32: Uint32Array;
  readonly f64: Float64Array;
}

const viewsOf = (ab: ArrayBufferLike): Views => {
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
function decodeAt(v: Views, o: number): RawEvent {
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

// ---- the binding ----

export interface ConnectorOptions {
  /** ProfitDLL64.dll, or the simulator library. */
  readonly libraryPath: string;
  /** The capture shim (default: native/build). */
  readonly capturePath?: string;
  /**
   * Records in the capture ring: a power of two from RING_MIN to RING_MAX (16384 to 4194304;
   * default DEFAULT_RING = 65536, 16 MiB of 256-byte records).
   */
  readonly ringCapacity?: number;
}

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** The simulator and the capture shim as `npm run build:native` builds them. */
export function defaultLibraryPaths(): { libraryPath: string; capturePath: string } {
  const win = process.platform === 'win32';
  return {
    libraryPath: here(win ? './build/ProfitDLL64.dll' : './build/libprofitdll_sim.so'),
    capturePath: here(win ? './build/tape_capture.dll' : './build/libtape_capture.so'),
  };
}

/** A trade the simulator delivers through TNewTradeCallback exactly as given, valid or not. */
export interface InjectedTrade {
  /** null passes a NULL pointer. */
  readonly ticker: string | null;
  readonly exchange: string | null;
  readonly date: string | null;
  readonly price: number;
  readonly qty: number;
  readonly feed?: number;
  readonly tradeNumber?: number;
  /** Default price × qty. */
  readonly volume?: number;
  readonly buyAgent?: number;
  readonly sellAgent?: number;
  readonly tradeType?: number;
  readonly isEdit?: boolean;
}

/** Callbacks the simulator made since the last login, by kind (SimGetStats). */
export interface SimStats {
  readonly trades: number;
  readonly dailies: number;
  readonly priceBooks: number;
  readonly offerBooks: number;
  readonly tinyBooks: number;
  readonly states: number;
  readonly invalidTickers: number;
  readonly tickerStates: number;
  readonly accounts: number;
  /** Trades a burst has still to send. */
  readonly burstPending: number;
  /** Every callback above. */
  readonly callbacks: number;
}

/** Simulator-only controls (exports the real DLL does not have). */
export interface SimControls {
  /** Trades per second per instrument with any subscription (default 20, or env TAPE_SIM_RATE). */
  setRate(tradesPerSecond: number): void;
  /** Adds an instrument, or re-seeds one (its book subscribers get their books cleared and resent). */
  addTicker(ticker: string, exchange: string, tickSize: number, lotSize: number, startPrice: number): void;
  /**
   * Queues `count` trades the simulator thread sends as fast as it can, round-robin over the
   * subscribed tickers, with no other callbacks; returns at once (see burstPending / waitBurst).
   */
  burst(count: number): void;
  burstPending(): number;
  /** Resolves when the burst has been sent (polling, so the event loop keeps running). */
  waitBurst(timeoutMs?: number): Promise<void>;
  /** Makes the simulator thread call the trade callback with exactly these values. */
  injectTrade(trade: InjectedTrade): void;
  /** Reports a trading-state change through TChangeStateTicker. */
  setTickerState(ticker: string, exchange: string, state: number): void;
  stats(): SimStats;
  /** match: orders fill against the book (default); hold: they rest until canceled; reject: all refused. */
  setOrderMode(mode: 'match' | 'hold' | 'reject'): void;
  /** Executes qty of a working order at price, whatever the book says. */
  fillOrder(localOrderId: bigint, qty: number, price: number): void;
  /** Forgets every order (a new day at the broker). */
  resetOrders(): void;
  orderStats(): SimOrderStats;
}

/** What the simulated broker did since the last resetOrders(). */
export interface SimOrderStats {
  /** Orders SendOrder accepted: the count a double send would raise. */
  readonly sent: number;
  readonly rejected: number;
  readonly canceled: number;
  readonly replaced: number;
  readonly fills: number;
  /** TConnectorOrderCallback calls. */
  readonly callbacks: number;
}

type Fn = (...args: unknown[]) => unknown;

const DRAIN_BATCH = 8192;

// Named koffi types are process-wide, so they are declared once, on first use.
let types: { trade: TypeObject; enumerateOrders: TypeObject } | undefined;
function declareTypes(): { trade: TypeObject; enumerateOrders: TypeObject } {
  if (types) return types;
  koffi.pack('TAssetIDRec', { ticker: 'str16', bolsa: 'str16', feed: 'int32' });
  koffi.struct('SimStats', {
    trades: 'int64',
    dailies: 'int64',
    priceBooks: 'int64',
    offerBooks: 'int64',
    tinyBooks: 'int64',
    states: 'int64',
    invalidTickers: 'int64',
    tickerStates: 'int64',
    accounts: 'int64',
    burstPending: 'int64',
  });
  koffi.struct('SimOrderStats', {
    sent: 'int64',
    rejected: 'int64',
    canceled: 'int64',
    replaced: 'int64',
    fills: 'int64',
    callbacks: 'int64',
  });
  // The V2 order records (native/include/profitdll.h): natural alignment.
  koffi.struct('TConnectorAccountIdentifier', {
    version: 'uint8',
    brokerId: 'int32',
    accountId: 'str16',
    subAccountId: 'str16',
    reserved: 'int64',
  });
  koffi.struct('TConnectorAssetIdentifier', {
    version: 'uint8',
    ticker: 'str16',
    exchange: 'str16',
    feedType: 'uint8',
  });
  koffi.struct('TConnectorOrderIdentifier', { version: 'uint8', localOrderId: 'int64', clOrderId: 'str16' });
  koffi.struct('TConnectorSendOrder', {
    version: 'uint8',
    accountId: 'TConnectorAccountIdentifier',
    assetId: 'TConnectorAssetIdentifier',
    password: 'str16',
    orderType: 'uint8',
    orderSide: 'uint8',
    price: 'double',
    stopPrice: 'double',
    quantity: 'int64',
  });
  koffi.struct('TConnectorChangeOrder', {
    version: 'uint8',
    accountId: 'TConnectorAccountIdentifier',
    orderId: 'TConnectorOrderIdentifier',
    password: 'str16',
    price: 'double',
    stopPrice: 'double',
    quantity: 'int64',
  });
  koffi.struct('TConnectorCancelOrder', {
    version: 'uint8',
    accountId: 'TConnectorAccountIdentifier',
    orderId: 'TConnectorOrderIdentifier',
    password: 'str16',
  });
  koffi.struct('TConnectorCancelAllOrders', {
    version: 'uint8',
    accountId: 'TConnectorAccountIdentifier',
    password: 'str16',
  });
  koffi.struct('TSystemTime', {
    year: 'uint16',
    month: 'uint16',
    dayOfWeek: 'uint16',
    day: 'uint16',
    hour: 'uint16',
    minute: 'uint16',
    second: 'uint16',
    milliseconds: 'uint16',
  });
  const orderFields = {
    quantity: 'int64',
    tradedQuantity: 'int64',
    leavesQuantity: 'int64',
    price: 'double',
    stopPrice: 'double',
    averagePrice: 'double',
    orderSide: 'uint8',
    orderType: 'uint8',
    orderStatus: 'uint8',
    validityType: 'uint8',
    date: 'TSystemTime',
    lastUpdate: 'TSystemTime',
    closeDate: 'TSystemTime',
    validityDate: 'TSystemTime',
  };
  koffi.struct('TConnectorAccountIdentifierOut', {
    version: 'uint8',
    brokerId: 'int32',
    accountId: 'uint16 *',
    accountIdLength: 'int32',
    subAccountId: 'uint16 *',
    subAccountIdLength: 'int32',
    reserved: 'int64',
  });
  koffi.struct('TConnectorAssetIdentifierOut', {
    version: 'uint8',
    ticker: 'uint16 *',
    tickerLength: 'int32',
    exchange: 'uint16 *',
    exchangeLength: 'int32',
    feedType: 'uint8',
  });
  koffi.struct('TConnectorOrderOut', {
    version: 'uint8',
    orderId: 'TConnectorOrderIdentifier',
    accountId: 'TConnectorAccountIdentifierOut',
    assetId: 'TConnectorAssetIdentifierOut',
    ...orderFields,
    textMessage: 'uint16 *',
    textMessageLength: 'int32',
  });
  koffi.struct('TConnectorOrder', {
    version: 'uint8',
    orderId: 'TConnectorOrderIdentifier',
    accountId: 'TConnectorAccountIdentifier',
    assetId: 'TConnectorAssetIdentifier',
    ...orderFields,
    textMessage: 'str16',
  });
  types = {
    trade: koffi.proto(
      'void __stdcall TNewTradeCallback(TAssetIDRec asset, str16 date, uint32 tradeNumber, double price, double volume, int32 qty, int32 buyAgent, int32 sellAgent, int32 tradeType, uint8 isEdit)',
    ),
    enumerateOrders: koffi.proto(
      'int32 __stdcall TConnectorEnumerateOrdersProc(TConnectorOrder *order, int64 param)',
    ),
  };
  return types;
}

// ---- orders (V2 API) ----

/** A routing account at a broker (TConnectorAccountIdentifier). */
export interface AccountRef {
  readonly brokerId: number;
  readonly accountId: string;
  readonly subAccountId?: string;
}

/** ProfitDLL OrderType and OrderSide (V2 values). */
export const OrderType = { market: 1, limit: 2, stopLimit: 4 } as const;
export const OrderSide = { buy: 1, sell: 2 } as const;

export interface SendOrderRequest {
  readonly account: AccountRef;
  /** The routing password (the account's electronic signature). */
  readonly password: string;
  readonly ticker: string;
  readonly exchange: string;
  readonly side: keyof typeof OrderSide;
  readonly type: keyof typeof OrderType;
  /** Limit price; ignored for market orders (sent as −1). */
  readonly price?: number;
  readonly stopPrice?: number;
  readonly qty: number;
}

/**
 * One order as the DLL reports it (TConnectorOrderOut / TConnectorOrder), raw and NOT
 * validated. Times are ms since the epoch (the DLL's SYSTEMTIME is B3 time, UTC−3); null when unset.
 */
export interface DllOrder {
  readonly localOrderId: bigint;
  /** '' from orderDetails(): the Out record does not carry it. */
  readonly clOrderId: string;
  readonly brokerId: number;
  readonly accountId: string;
  readonly subAccountId: string;
  readonly ticker: string;
  readonly exchange: string;
  readonly qty: number;
  readonly tradedQty: number;
  readonly leavesQty: number;
  readonly price: number;
  readonly stopPrice: number;
  readonly averagePrice: number;
  readonly side: number;
  readonly type: number;
  /** OrderStatus (API.md): new 0, partially filled 1, filled 2, canceled 4, … */
  readonly status: number;
  readonly date: number | null;
  readonly lastUpdate: number | null;
  readonly closeDate: number | null;
  readonly text: string;
}

interface SystemTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  milliseconds: number;
}
const B3_OFFSET_MS = 3 * 3_600_000;
const fromSystemTime = (t: SystemTime): number | null =>
  t.year === 0
    ? null
    : Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second, t.milliseconds) + B3_OFFSET_MS;

interface OrderFields {
  quantity: number | bigint;
  tradedQuantity: number | bigint;
  leavesQuantity: number | bigint;
  price: number;
  stopPrice: number;
  averagePrice: number;
  orderSide: number;
  orderType: number;
  orderStatus: number;
  date: SystemTime;
  lastUpdate: SystemTime;
  closeDate: SystemTime;
}

const orderFields = (o: OrderFields) => ({
  qty: Number(o.quantity),
  tradedQty: Number(o.tradedQuantity),
  leavesQty: Number(o.leavesQuantity),
  price: o.price,
  stopPrice: o.stopPrice,
  averagePrice: o.averagePrice,
  side: o.orderSide,
  type: o.orderType,
  status: o.orderStatus,
  date: fromSystemTime(o.date),
  lastUpdate: fromSystemTime(o.lastUpdate),
  closeDate: fromSystemTime(o.closeDate),
});

const accountRecord = (a: AccountRef) => ({
  version: 0,
  brokerId: a.brokerId,
  accountId: a.accountId,
  subAccountId: a.subAccountId ?? '',
  reserved: 0,
});

/** A string out of a caller-owned buffer: `units` written, NUL included. */
const fromUnits = (buf: Uint16Array, units: number) =>
  String.fromCharCode(...buf.subarray(0, Math.max(0, Math.min(units, buf.length) - 1)));

/** Per-trade arguments a JS trade callback receives (the benchmark's peer path). */
export interface JsTrade {
  readonly ticker: string;
  readonly exchange: string;
  readonly date: string;
  readonly tradeNumber: number;
  readonly price: number;
  readonly volume: number;
  readonly qty: number;
}

/** The shim's callbacks; it exports `tape_capture_<name>_cb()` returning each one's address. */
export const CAPTURE_CALLBACKS = [
  'state',
  'account',
  'trade',
  'daily',
  'price_book',
  'offer_book',
  'history_trade',
  'progress',
  'tiny_book',
  'invalid_ticker',
  'ticker_state',
  'order',
] as const;
type CaptureCallback = (typeof CAPTURE_CALLBACKS)[number];

/** ProfitDLL's exports Tape calls, with the same prototypes for the real DLL and the simulator. */
function bindDll(lib: LibraryHandle) {
  const f = (decl: string) => lib.func(decl) as unknown as Fn;
  const tickerRequest = (name: string) => f(`int32 __stdcall ${name}(str16 ticker, str16 exchange)`);
  return {
    DLLInitializeLogin: f(
      'int32 __stdcall DLLInitializeLogin(str16 key, str16 user, str16 password, void *state, void *history, void *orderChange, void *account, void *newTrade, void *newDaily, void *priceBook, void *offerBook, void *historyTrade, void *progress, void *tinyBook)',
    ),
    DLLInitializeMarketLogin: f(
      'int32 __stdcall DLLInitializeMarketLogin(str16 key, str16 user, str16 password, void *state, void *newTrade, void *newDaily, void *priceBook, void *offerBook, void *historyTrade, void *progress, void *tinyBook)',
    ),
    DLLFinalize: f('int32 __stdcall DLLFinalize()'),
    SetServerAndPort: f('int32 __stdcall SetServerAndPort(str16 server, str16 port)'),
    SetInvalidTickerCallback: f('int32 __stdcall SetInvalidTickerCallback(void *cb)'),
    SetChangeStateTickerCallback: f('int32 __stdcall SetChangeStateTickerCallback(void *cb)'),
    SubscribeTicker: tickerRequest('SubscribeTicker'),
    UnsubscribeTicker: tickerRequest('UnsubscribeTicker'),
    SubscribePriceBook: tickerRequest('SubscribePriceBook'),
    UnsubscribePriceBook: tickerRequest('UnsubscribePriceBook'),
    SubscribeOfferBook: tickerRequest('SubscribeOfferBook'),
    UnsubscribeOfferBook: tickerRequest('UnsubscribeOfferBook'),
  };
}

/** The V2 order exports: bound on first use, so a market-data-only DLL build still loads. */
function bindOrders(lib: LibraryHandle) {
  declareTypes();
  const f = (decl: string) => lib.func(decl) as unknown as Fn;
  return {
    SetOrderCallback: f('int32 __stdcall SetOrderCallback(void *cb)'),
    SendOrder: f('int64 __stdcall SendOrder(TConnectorSendOrder *order)'),
    SendChangeOrderV2: f('int32 __stdcall SendChangeOrderV2(TConnectorChangeOrder *change)'),
    SendCancelOrderV2: f('int32 __stdcall SendCancelOrderV2(TConnectorCancelOrder *cancel)'),
    SendCancelAllOrdersV2: f('int32 __stdcall SendCancelAllOrdersV2(TConnectorCancelAllOrders *cancel)'),
    GetOrderDetails: f('int32 __stdcall GetOrderDetails(_Inout_ TConnectorOrderOut *order)'),
    EnumerateAllOrders: f(
      'int32 __stdcall EnumerateAllOrders(TConnectorAccountIdentifier *account, uint8 version, int64 param, TConnectorEnumerateOrdersProc *proc)',
    ),
  };
}
type Dll = ReturnType<typeof bindDll>;
type TickerRequest = Extract<keyof Dll, `${string}ubscribe${string}`>;

// The DLL, the shim and its ring are process-wide: one logged-in connector at a time.
let loggedIn: ProfitConnector | undefined;

export class ProfitConnector {
  readonly sim: SimControls | undefined;
  private readonly dll: Dll;
  private readonly lib: LibraryHandle;
  private orderFns: ReturnType<typeof bindOrders> | undefined;
  private readonly captureDrain: Fn;
  private readonly captureDropped: Fn;
  private readonly captureWait: Fn & { async: (...args: unknown[]) => void };
  private readonly captureWake: Fn;
  private readonly callbacks: Record<CaptureCallback, bigint>;
  private readonly drainBuf: Buffer;
  private readonly drainViews: Views;
  private registered: bigint[] = [];

  private constructor(lib: LibraryHandle, cap: LibraryHandle, ringCapacity: number) {
    this.dll = bindDll(lib);
    this.lib = lib;
    const c = (decl: string) => cap.func(decl) as unknown as Fn;
    const recordBytes = c('int32 tape_capture_record_bytes()')() as number;
    if (recordBytes !== RECORD_BYTES)
      throw new Error(
        `the capture shim writes ${recordBytes}-byte records but this binding reads ${RECORD_BYTES}: rebuild it with \`npm run build:native -- --force\``,
      );
    const reset = c('int32 tape_capture_reset(int32 capacity)')(ringCapacity) as number;
    if (reset === -1)
      throw new RangeError(
        `ringCapacity must be a power of two from ${RING_MIN} to ${RING_MAX} (got ${ringCapacity})`,
      );
    if (reset !== 0) throw new Error(`could not allocate a capture ring of ${ringCapacity} records`);
    this.captureDrain = c('int32 tape_capture_drain(_Out_ uint8 *out, int32 maxRecords)');
    this.captureDropped = c('uint64 tape_capture_dropped()');
    this.captureWait = c('int32 tape_capture_wait(int32 timeoutMs, int32 lingerUs)') as Fn & {
      async: (...args: unknown[]) => void;
    };
    this.captureWake = c('void tape_capture_wake()');
    this.callbacks = Object.fromEntries(
      CAPTURE_CALLBACKS.map((name) => [name, c(`void *tape_capture_${name}_cb()`)() as bigint]),
    ) as Record<CaptureCallback, bigint>;
    // Its own ArrayBuffer, so the typed views are 8-byte aligned.
    const ab = new ArrayBuffer(DRAIN_BATCH * RECORD_BYTES);
    this.drainBuf = Buffer.from(ab);
    this.drainViews = viewsOf(ab);
    this.sim = simControls(lib);
  }

  /** Loads the DLL (or simulator) and the capture shim, and empties the capture ring. */
  static open(opts: ConnectorOptions): ProfitConnector {
    const capturePath = opts.capturePath ?? defaultLibraryPaths().capturePath;
    for (const [what, path, fix] of [
      ['ProfitDLL', opts.libraryPath, 'set PROFITDLL_PATH to ProfitDLL64.dll, or run `npm run build:native`'],
      ['the capture shim', capturePath, 'run `npm run build:native` (docs/native.md: building)'],
    ] as const) {
      if (!existsSync(path)) throw new Error(`${what} was not found at ${path}: ${fix}`);
    }
    if (loggedIn)
      throw new Error(
        'another ProfitConnector is still logged in; call finalize() on it first (the DLL and the capture ring are process-wide)',
      );
    return new ProfitConnector(
      koffi.load(opts.libraryPath),
      koffi.load(capturePath),
      opts.ringCapacity ?? DEFAULT_RING,
    );
  }

  /** True when the library has the simulator's Sim* exports. */
  get isSimulator(): boolean {
    return this.sim !== undefined;
  }

  /** Points the DLL at another server; call it before login. */
  setServerAndPort(server: string, port: string): void {
    check('SetServerAndPort', this.dll.SetServerAndPort(server, port) as number);
  }

  /**
   * DLLInitializeLogin (routing + market data) or DLLInitializeMarketLogin, with the capture
   * shim's C callbacks; the Set*Callback registrations follow at once, as the DLL requires.
   * Progress arrives as `state` events from drain().
   */
  login(key: string, user: string, password: string, opts: { routing?: boolean } = {}): void {
    const cb = this.callbacks;
    this.initialize(key, user, password, opts.routing === true, cb.trade);
    check('SetInvalidTickerCallback', this.dll.SetInvalidTickerCallback(cb.invalid_ticker) as number);
    check('SetChangeStateTickerCallback', this.dll.SetChangeStateTickerCallback(cb.ticker_state) as number);
    if (opts.routing) check('SetOrderCallback', this.orders.SetOrderCallback(cb.order) as number);
  }

  private get orders(): ReturnType<typeof bindOrders> {
    this.orderFns ??= bindOrders(this.lib);
    return this.orderFns;
  }

  /**
   * SendOrder: returns the DLL's local order id. Argument errors come back at once as a
   * ProfitDllError; what the broker refuses arrives later as a rejected order.
   */
  sendOrder(o: SendOrderRequest): bigint {
    const id = BigInt(
      this.orders.SendOrder({
        version: 0,
        accountId: accountRecord(o.account),
        assetId: { version: 0, ticker: o.ticker, exchange: o.exchange, feedType: 0 },
        password: o.password,
        orderType: OrderType[o.type],
        orderSide: OrderSide[o.side],
        price: o.type === 'market' ? -1 : (o.price ?? Number.NaN),
        stopPrice: o.stopPrice ?? -1,
        quantity: o.qty,
      }) as number | bigint,
    );
    if (id < 0n) throw new ProfitDllError(`SendOrder(${o.ticker})`, Number(id) | 0);
    if (id === 0n) throw new ProfitDllError(`SendOrder(${o.ticker})`, NL.INTERNAL_ERROR);
    return id;
  }

  /** SendChangeOrderV2: a new limit price and total quantity for a working order. */
  changeOrder(account: AccountRef, localOrderId: bigint, price: number, qty: number, password: string): void {
    const code = this.orders.SendChangeOrderV2({
      version: 0,
      accountId: accountRecord(account),
      orderId: { version: 0, localOrderId, clOrderId: '' },
      password,
      price,
      stopPrice: -1,
      quantity: qty,
    }) as number;
    check(`SendChangeOrderV2(${localOrderId})`, code);
  }

  /** SendCancelOrderV2. */
  cancelOrder(account: AccountRef, localOrderId: bigint, password: string): void {
    const code = this.orders.SendCancelOrderV2({
      version: 0,
      accountId: accountRecord(account),
      orderId: { version: 0, localOrderId, clOrderId: '' },
      password,
    }) as number;
    check(`SendCancelOrderV2(${localOrderId})`, code);
  }

  /** SendCancelAllOrdersV2: every working order of the account. */
  cancelAllOrders(account: AccountRef, password: string): void {
    const code = this.orders.SendCancelAllOrdersV2({
      version: 0,
      accountId: accountRecord(account),
      password,
    }) as number;
    check('SendCancelAllOrdersV2', code);
  }

  /** GetOrderDetails, into buffers of ours; grows them and asks again when a string did not fit. */
  orderDetails(localOrderId: bigint): DllOrder {
    for (let units = 64; ; units *= 4) {
      const bufs = Array.from({ length: 5 }, () => new Uint16Array(units));
      const out = {
        version: 0,
        orderId: { version: 0, localOrderId, clOrderId: '' },
        accountId: {
          version: 0,
          brokerId: 0,
          accountId: bufs[0],
          accountIdLength: units,
          subAccountId: bufs[1],
          subAccountIdLength: units,
          reserved: 0,
        },
        assetId: {
          version: 0,
          ticker: bufs[2],
          tickerLength: units,
          exchange: bufs[3],
          exchangeLength: units,
          feedType: 0,
        },
        textMessage: bufs[4],
        textMessageLength: units,
      };
      check(`GetOrderDetails(${localOrderId})`, this.orders.GetOrderDetails(out) as number);
      const lengths = [
        out.accountId.accountIdLength,
        out.accountId.subAccountIdLength,
        out.assetId.tickerLength,
        out.assetId.exchangeLength,
        out.textMessageLength,
      ];
      if (lengths.some((n) => n > units) && units < 65536) continue;
      const text = (i: number) => fromUnits(bufs[i] as Uint16Array, lengths[i] as number);
      return {
        localOrderId,
        clOrderId: '',
        brokerId: out.accountId.brokerId,
        accountId: text(0),
        subAccountId: text(1),
        ticker: text(2),
        exchange: text(3),
        ...orderFields(out as unknown as OrderFields),
        text: text(4),
      };
    }
  }

  /** EnumerateAllOrders: the account's orders as the DLL knows them (start-up reconciliation). */
  enumerateOrders(account: AccountRef): DllOrder[] {
    const found: DllOrder[] = [];
    const proc = koffi.register((ptr: unknown) => {
      const o = koffi.decode(ptr, 'TConnectorOrder') as OrderFields & {
        orderId: { localOrderId: number | bigint; clOrderId: string | null };
        accountId: { brokerId: number; accountId: string | null; subAccountId: string | null };
        assetId: { ticker: string | null; exchange: string | null };
        textMessage: string | null;
      };
      found.push({
        localOrderId: BigInt(o.orderId.localOrderId),
        clOrderId: o.orderId.clOrderId ?? '',
        brokerId: o.accountId.brokerId,
        accountId: o.accountId.accountId ?? '',
        subAccountId: o.accountId.subAccountId ?? '',
        ticker: o.assetId.ticker ?? '',
        exchange: o.assetId.exchange ?? '',
        ...orderFields(o),
        text: o.textMessage ?? '',
      });
      return 1;
    }, koffi.pointer(declareTypes().enumerateOrders));
    try {
      check(
        'EnumerateAllOrders',
        this.orders.EnumerateAllOrders(accountRecord(account), 0, 0, proc) as number,
      );
    } finally {
      koffi.unregister(proc);
    }
    return found;
  }

  /**
   * The benchmark's peer path: a market-data login whose trade callback is a koffi-registered
   * JS function, so every trade crosses from the DLL thread into JS one blocking call at a time.
   * Other callbacks still go to the capture shim. Before finalize(), stop the trades and let the
   * event loop run: DLLFinalize joins the DLL thread, which may be waiting on the JS thread.
   */
  loginWithJsTradeCallback(key: string, user: string, password: string, onTrade: (t: JsTrade) => void): void {
    const pointer = koffi.register(
      (
        asset: { ticker: string; bolsa: string },
        date: string,
        tradeNumber: number,
        price: number,
        volume: number,
        qty: number,
      ) => onTrade({ ticker: asset.ticker, exchange: asset.bolsa, date, tradeNumber, price, volume, qty }),
      koffi.pointer(declareTypes().trade),
    );
    try {
      this.initialize(key, user, password, false, pointer);
    } catch (err) {
      koffi.unregister(pointer);
      throw err;
    }
    this.registered.push(pointer);
  }

  private initialize(key: string, user: string, password: string, routing: boolean, trade: bigint): void {
    if (loggedIn)
      throw new ProfitDllError(
        routing ? 'DLLInitializeLogin' : 'DLLInitializeMarketLogin',
        NL.DUPLICATE_RESOURCE,
      );
    const cb = this.callbacks;
    const code = routing
      ? (this.dll.DLLInitializeLogin(
          key,
          user,
          password,
          cb.state,
          null, // THistoryCallback and TOrderChangeCallback: the V2 order callback replaces them
          null,
          cb.account,
          trade,
          cb.daily,
          cb.price_book,
          cb.offer_book,
          cb.history_trade,
          cb.progress,
          cb.tiny_book,
        ) as number)
      : (this.dll.DLLInitializeMarketLogin(
          key,
          user,
          password,
          cb.state,
          trade,
          cb.daily,
          cb.price_book,
          cb.offer_book,
          cb.history_trade,
          cb.progress,
          cb.tiny_book,
        ) as number);
    check(routing ? 'DLLInitializeLogin' : 'DLLInitializeMarketLogin', code);
    loggedIn = this;
  }

  subscribeTicker(ticker: string, exchange: string): void {
    this.request('SubscribeTicker', ticker, exchange);
  }
  unsubscribeTicker(ticker: string, exchange: string): void {
    this.request('UnsubscribeTicker', ticker, exchange);
  }
  subscribePriceBook(ticker: string, exchange: string): void {
    this.request('SubscribePriceBook', ticker, exchange);
  }
  unsubscribePriceBook(ticker: string, exchange: string): void {
    this.request('UnsubscribePriceBook', ticker, exchange);
  }
  subscribeOfferBook(ticker: string, exchange: string): void {
    this.request('SubscribeOfferBook', ticker, exchange);
  }
  unsubscribeOfferBook(ticker: string, exchange: string): void {
    this.request('UnsubscribeOfferBook', ticker, exchange);
  }

  private request(fn: TickerRequest, ticker: string, exchange: string): void {
    check(`${fn}(${ticker}, ${exchange})`, this.dll[fn](ticker, exchange) as number);
  }

  /**
   * Copies up to `max` records (RECORD_BYTES each) into `buf` with one native call and returns
   * how many; decode them with decodeRecord(buf, i * RECORD_BYTES).
   */
  drainInto(buf: Uint8Array, max: number): number {
    const n = Math.min(max, Math.floor(buf.length / RECORD_BYTES));
    return n > 0 ? (this.captureDrain(buf, n) as number) : 0;
  }

  /** Drains and decodes up to `max` events, oldest first, with one native call. */
  drain(max = DRAIN_BATCH): RawEvent[] {
    const n = this.drainInto(this.drainBuf, Math.min(max, DRAIN_BATCH));
    const out = new Array<RawEvent>(n);
    for (let i = 0; i < n; i++) out[i] = decodeAt(this.drainViews, i * RECORD_BYTES);
    return out;
  }

  /**
   * Resolves as soon as an event is ready to drain (true), or after `timeoutMs` or wake() (false);
   * with `lingerUs`, that long after the first event, so busy feeds drain in batches. The wait
   * runs on a libuv worker thread, so the event loop stays free meanwhile.
   */
  waitForEvents(timeoutMs: number, lingerUs = 0): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.captureWait.async(timeoutMs, lingerUs, (err: Error | null, ready: number) =>
        err ? reject(err) : resolve(ready === 1),
      );
    });
  }

  /** Ends a pending waitForEvents at once. */
  wake(): void {
    this.captureWake();
  }

  /** Events the ring dropped because JS did not drain fast enough, since open(). */
  dropped(): bigint {
    return BigInt(this.captureDropped() as number | bigint);
  }

  /** DLLFinalize: the DLL stops calling back; login() may follow. Idempotent. */
  finalize(): void {
    const code = this.dll.DLLFinalize() as number;
    if (loggedIn === this) loggedIn = undefined;
    for (const p of this.registered.splice(0)) koffi.unregister(p);
    if (code !== NL.OK && code !== NL.NOT_INITIALIZED) throw new ProfitDllError('DLLFinalize', code);
  }
}

function simControls(lib: LibraryHandle): SimControls | undefined {
  const optional = (decl: string) => {
    try {
      return lib.func(decl) as unknown as Fn;
    } catch {
      return undefined; // the real DLL has no Sim* exports
    }
  };
  const setRate = optional('int32 SimSetRate(double tradesPerSecond)');
  if (!setRate) return undefined;
  const required = (decl: string) => {
    const fn = optional(decl);
    if (!fn)
      throw new Error(
        `the simulator library lacks ${decl.split('(')[0]}: rebuild it with \`npm run build:native -- --force\``,
      );
    return fn;
  };
  const addTicker = required(
    'int32 SimAddTicker(str16 ticker, str16 exchange, double tickSize, int32 lotSize, double startPrice)',
  );
  const burst = required('int32 SimBurst(int64 count)');
  const inject = required(
    'int32 SimInjectTrade(str16 ticker, str16 exchange, int32 feed, str16 date, uint32 tradeNumber, double price, double volume, int32 qty, int32 buyAgent, int32 sellAgent, int32 tradeType, uint8 isEdit)',
  );
  const tickerState = required('int32 SimSetTickerState(str16 ticker, str16 exchange, int32 state)');
  declareTypes(); // SimStats, SimOrderStats
  const getStats = required('int32 SimGetStats(_Out_ SimStats *out)');
  const orderMode = required('int32 SimSetOrderMode(int32 mode)');
  const fillOrder = required('int32 SimFillOrder(int64 localOrderId, int64 qty, double price)');
  const resetOrders = required('int32 SimResetOrders()');
  const getOrderStats = required('int32 SimGetOrderStats(_Out_ SimOrderStats *out)');
  const stats = (): SimStats => {
    const s: Record<string, number | bigint> = {};
    check('SimGetStats', getStats(s) as number);
    const n = (k: keyof SimStats) => Number(s[k]);
    const counts = {
      trades: n('trades'),
      dailies: n('dailies'),
      priceBooks: n('priceBooks'),
      offerBooks: n('offerBooks'),
      tinyBooks: n('tinyBooks'),
      states: n('states'),
      invalidTickers: n('invalidTickers'),
      tickerStates: n('tickerStates'),
      accounts: n('accounts'),
    };
    return {
      ...counts,
      burstPending: n('burstPending'),
      callbacks: Object.values(counts).reduce((a, b) => a + b, 0),
    };
  };
  return {
    setRate: (r) => check('SimSetRate', setRate(r) as number),
    addTicker: (t, e, tick, lot, price) => check('SimAddTicker', addTicker(t, e, tick, lot, price) as number),
    burst: (count) => check('SimBurst', burst(count) as number),
    burstPending: () => stats().burstPending,
    waitBurst: async (timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      while (stats().burstPending > 0) {
        if (Date.now() > deadline)
          throw new Error(`the simulator burst did not finish within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 1));
      }
    },
    injectTrade: (t) =>
      check(
        'SimInjectTrade',
        inject(
          t.ticker,
          t.exchange,
          t.feed ?? 0,
          t.date,
          t.tradeNumber ?? 1,
          t.price,
          t.volume ?? t.price * t.qty,
          t.qty,
          t.buyAgent ?? 0,
          t.sellAgent ?? 0,
          t.tradeType ?? 1,
          t.isEdit ? 1 : 0,
        ) as number,
      ),
    setTickerState: (t, e, state) => check('SimSetTickerState', tickerState(t, e, state) as number),
    stats,
    setOrderMode: (mode) =>
      check('SimSetOrderMode', orderMode({ match: 0, hold: 1, reject: 2 }[mode]) as number),
    fillOrder: (id, qty, price) => check(`SimFillOrder(${id})`, fillOrder(id, qty, price) as number),
    resetOrders: () => check('SimResetOrders', resetOrders() as number),
    orderStats: () => {
      const s: Record<string, number | bigint> = {};
      check('SimGetOrderStats', getOrderStats(s) as number);
      return {
        sent: Number(s.sent),
        rejected: Number(s.rejected),
        canceled: Number(s.canceled),
        replaced: Number(s.replaced),
        fills: Number(s.fills),
        callbacks: Number(s.callbacks),
      };
    },
  };
}
