import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import koffi, { type LibraryHandle, type TypeObject } from 'koffi';

// The koffi binding to ProfitDLL — the only TypeScript that touches koffi. The same prototypes
// drive the real ProfitDLL64.dll on Windows and the simulator library on Linux. Callbacks handed
// to the DLL are C functions of the capture shim, which copy each event into a native ring;
// JS drains that ring in batches (docs/native.md).

/** ProfitDLL return codes (API.md), as signed int32 the way koffi returns them. */
export const NL = {
  OK: 0,
  INTERNAL_ERROR: 0x80000001 | 0,
  NOT_INITIALIZED: 0x80000002 | 0,
  INVALID_ARGS: 0x80000003 | 0,
  WAITING_SERVER: 0x80000004 | 0,
  NO_LOGIN: 0x80000005 | 0,
  NO_LICENSE: 0x80000006 | 0,
  OUT_OF_RANGE: 0x80000009 | 0,
  MARKET_ONLY: 0x8000000a | 0,
  NO_POSITION: 0x8000000b | 0,
  NOT_FOUND: 0x8000000c | 0,
  VERSION_NOT_SUPPORTED: 0x8000000d | 0,
  EXCHANGE_UNKNOWN: 0x8000000f | 0,
  DUPLICATE_RESOURCE: 0x8000001a | 0,
  NO_PASSWORD: 0x8000001c | 0,
  NO_USER: 0x8000001d | 0,
  INVALID_TICKER: 0x8000001f | 0,
  NOT_MASTER_ACCOUNT: 0x80000020 | 0,
} as const;
export type NlCode = keyof typeof NL;

const ADVICE: Partial<Record<NlCode, string>> = {
  NOT_INITIALIZED: 'log in first (DLLInitializeLogin)',
  NO_LOGIN: 'log in first (DLLInitializeLogin)',
  INVALID_ARGS: 'check the arguments',
  NO_LICENSE: 'the activation key has no license for this: check PROFITDLL_KEY',
  INVALID_TICKER: 'check the ticker and its exchange letter (B or F)',
  NO_USER: 'set PROFITDLL_USER',
  NO_PASSWORD: 'set PROFITDLL_PASSWORD',
  DUPLICATE_RESOURCE: 'already logged in: call DLLFinalize before logging in again',
  WAITING_SERVER: 'the DLL is still connecting: retry in a moment',
  MARKET_ONLY: 'this login has market data only: use a routing login for orders',
};

export class ProfitDllError extends Error {
  override name = 'ProfitDllError';
  readonly codeName: string;
  constructor(
    readonly fn: string,
    readonly code: number,
  ) {
    const name =
      (Object.keys(NL) as NlCode[]).find((k) => NL[k] === code) ?? `0x${(code >>> 0).toString(16)}`;
    super(`${fn} failed with NL_${name}${ADVICE[name as NlCode] ? `: ${ADVICE[name as NlCode]}` : ''}`);
    this.codeName = `NL_${name}`;
  }
}

const check = (fn: string, code: number) => {
  if (code !== NL.OK) throw new ProfitDllError(fn, code);
};

// ---- capture records (native/capture/capture.c) ----

export const RECORD_BYTES = 192;
const KIND = {
  state: 1,
  trade: 2,
  historyTrade: 3,
  daily: 4,
  tinyBook: 5,
  invalidTicker: 6,
  tickerState: 7,
} as const;
const FLAG_TRUNCATED = 1;
const FLAG_EDIT = 2;

interface AssetFields {
  readonly ticker: string;
  readonly exchange: string;
  readonly feed: number;
  readonly truncated: boolean;
  /** CLOCK_REALTIME when the shim copied the callback, ns since the epoch (exact to ~0.25 µs as a double). */
  readonly capturedAtNs: number;
}

export type RawEvent =
  | {
      readonly kind: 'state';
      readonly connType: number;
      readonly result: number;
      readonly capturedAtNs: number;
    }
  | (AssetFields & {
      readonly kind: 'trade';
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
      readonly qty: number;
      readonly trades: number;
    })
  | (AssetFields & {
      readonly kind: 'tinyBook';
      readonly price: number;
      readonly qty: number;
      readonly side: number;
    })
  | (AssetFields & { readonly kind: 'invalidTicker' })
  | (AssetFields & { readonly kind: 'tickerState'; readonly date: string; readonly state: number })
  | { readonly kind: 'unknown'; readonly code: number; readonly capturedAtNs: number };

export class RecordError extends Error {
  override name = 'RecordError';
}

function utf16(buf: Buffer, off: number, units: number): string {
  let s = '';
  // Lone surrogates stay as they are: validation downstream rejects them with a reason.
  for (let i = 0; i < units; i++) s += String.fromCharCode(buf.readUInt16LE(off + i * 2));
  return s;
}

/** Decodes one capture record; throws RecordError when it cannot be one (lengths out of range). */
export function decodeRecord(buf: Buffer, offset: number): RawEvent {
  if (offset < 0 || offset + RECORD_BYTES > buf.length)
    throw new RecordError('record extends past the buffer');
  const kind = buf[offset] as number;
  const flags = buf[offset + 1] as number;
  const tickerLen = buf[offset + 2] as number;
  const exchangeLen = buf[offset + 3] as number;
  const dateLen = buf[offset + 4] as number;
  const capturedAtNs = Number(buf.readBigInt64LE(offset + 8));
  if (kind === KIND.state) {
    return {
      kind: 'state',
      connType: buf.readInt32LE(offset + 104),
      result: buf.readInt32LE(offset + 108),
      capturedAtNs,
    };
  }
  if (kind < KIND.trade || kind > KIND.tickerState) return { kind: 'unknown', code: kind, capturedAtNs };
  if (tickerLen > 16 || exchangeLen > 4 || dateLen > 24) throw new RecordError('string length out of range');
  const asset: AssetFields = {
    ticker: utf16(buf, offset + 16, tickerLen),
    exchange: utf16(buf, offset + 48, exchangeLen),
    feed: buf.readInt32LE(offset + 140),
    truncated: (flags & FLAG_TRUNCATED) !== 0,
    capturedAtNs,
  };
  const date = () => utf16(buf, offset + 56, dateLen);
  switch (kind) {
    case KIND.trade:
    case KIND.historyTrade:
      return {
        ...asset,
        kind: 'trade',
        history: kind === KIND.historyTrade,
        date: date(),
        price: buf.readDoubleLE(offset + 104),
        volume: buf.readDoubleLE(offset + 112),
        qty: buf.readInt32LE(offset + 120),
        tradeNumber: buf.readUInt32LE(offset + 124),
        buyAgent: buf.readInt32LE(offset + 128),
        sellAgent: buf.readInt32LE(offset + 132),
        tradeType: buf.readInt32LE(offset + 136),
        isEdit: (flags & FLAG_EDIT) !== 0,
      };
    case KIND.daily:
      return {
        ...asset,
        kind: 'daily',
        date: date(),
        close: buf.readDoubleLE(offset + 104),
        volume: buf.readDoubleLE(offset + 112),
        qty: buf.readInt32LE(offset + 120),
        trades: buf.readUInt32LE(offset + 124),
        open: buf.readDoubleLE(offset + 144),
        high: buf.readDoubleLE(offset + 152),
        low: buf.readDoubleLE(offset + 160),
      };
    case KIND.tinyBook:
      return {
        ...asset,
        kind: 'tinyBook',
        price: buf.readDoubleLE(offset + 104),
        qty: buf.readInt32LE(offset + 120),
        side: buf.readInt32LE(offset + 128),
      };
    case KIND.invalidTicker:
      return { ...asset, kind: 'invalidTicker' };
    default:
      return { ...asset, kind: 'tickerState', date: date(), state: buf.readInt32LE(offset + 136) };
  }
}

// ---- the binding ----

export interface ConnectorOptions {
  readonly libraryPath: string;
  readonly capturePath?: string;
  /** Records in the capture ring: a power of two ≥ 1024. */
  readonly ringCapacity?: number;
}

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** The simulator and the capture shim as built by `npm run build:native`. */
export function defaultLibraryPaths(): { libraryPath: string; capturePath: string } {
  const win = process.platform === 'win32';
  return {
    libraryPath: here(win ? './build/ProfitDLL64.dll' : './build/libprofitdll_sim.so'),
    capturePath: here(win ? './build/tape_capture.dll' : './build/libtape_capture.so'),
  };
}

export interface InjectedTrade {
  readonly ticker: string;
  readonly exchange: string;
  readonly date: string;
  readonly price: number;
  readonly qty: number;
  readonly tradeNumber?: number;
  readonly tradeType?: number;
}

export interface SimControls {
  /** Trades per second per subscribed ticker. */
  setRate(eventsPerSecondPerTicker: number): void;
  addTicker(ticker: string, exchange: string, tickSize: number, lotSize: number, startPrice: number): void;
  /** Starts a burst of `count` trades from the simulator thread, as fast as it can; returns at once. */
  burst(count: number): void;
  burstPending(): number;
  /** Makes the simulator thread deliver exactly this trade through the real callback, valid or not. */
  injectTrade(t: InjectedTrade): void;
}

type Fn = (...args: unknown[]) => unknown;
const TRADE_PROTO =
  'void __stdcall TNewTradeCallback(TAssetIDRec asset, str16 date, uint32 tradeNumber, double price, double volume, int32 qty, int32 buyAgent, int32 sellAgent, int32 tradeType, uint8 isEdit)';
// Named koffi types are process-wide: declared once, on first use.
let types: { tradeProto: TypeObject } | undefined;
const declareTypes = () => {
  if (!types) {
    koffi.pack('TAssetIDRec', { ticker: 'str16', bolsa: 'str16', feed: 'int32' });
    types = { tradeProto: koffi.proto(TRADE_PROTO) };
  }
  return types;
};

export class ProfitConnector {
  private readonly drainBuf: Buffer;
  private readonly fns: Record<string, Fn>;
  private readonly capture: Record<string, Fn>;
  readonly sim: SimControls | undefined;
  private registered: bigint[] = [];

  private constructor(lib: LibraryHandle, cap: LibraryHandle, ringCapacity: number) {
    declareTypes();
    const f = (decl: string) => lib.func(decl) as unknown as Fn;
    this.fns = {
      DLLInitializeLogin: f(
        'int32 __stdcall DLLInitializeLogin(str16 key, str16 user, str16 password, void *state, void *history, void *orderChange, void *account, void *newTrade, void *newDaily, void *priceBook, void *offerBook, void *historyTrade, void *progress, void *tinyBook)',
      ),
      DLLInitializeMarketLogin: f(
        'int32 __stdcall DLLInitializeMarketLogin(str16 key, str16 user, str16 password, void *state, void *newTrade, void *newDaily, void *priceBook, void *offerBook, void *historyTrade, void *progress, void *tinyBook)',
      ),
      DLLFinalize: f('int32 __stdcall DLLFinalize()'),
      SubscribeTicker: f('int32 __stdcall SubscribeTicker(str16 ticker, str16 exchange)'),
      UnsubscribeTicker: f('int32 __stdcall UnsubscribeTicker(str16 ticker, str16 exchange)'),
      SubscribePriceBook: f('int32 __stdcall SubscribePriceBook(str16 ticker, str16 exchange)'),
      UnsubscribePriceBook: f('int32 __stdcall UnsubscribePriceBook(str16 ticker, str16 exchange)'),
      SetInvalidTickerCallback: f('int32 __stdcall SetInvalidTickerCallback(void *cb)'),
    };
    const c = (decl: string) => cap.func(decl) as unknown as Fn;
    this.capture = {
      reset: c('int32 tape_capture_reset(int32 capacity)'),
      drain: c('int32 tape_capture_drain(_Out_ uint8 *out, int32 maxRecords)'),
      dropped: c('uint64 tape_capture_dropped()'),
      state: c('void *tape_capture_state_cb()'),
      trade: c('void *tape_capture_trade_cb()'),
      historyTrade: c('void *tape_capture_history_trade_cb()'),
      daily: c('void *tape_capture_daily_cb()'),
      tinyBook: c('void *tape_capture_tiny_book_cb()'),
      invalidTicker: c('void *tape_capture_invalid_ticker_cb()'),
    };
    const code = this.capture.reset?.(ringCapacity) as number;
    if (code !== 0)
      throw new RangeError(`capture ring capacity must be a power of two ≥ 1024 (got ${ringCapacity})`);
    this.drainBuf = Buffer.alloc(8192 * RECORD_BYTES);
    this.sim = ProfitConnector.simControls(lib);
  }

  static open(opts: ConnectorOptions): ProfitConnector {
    const capturePath = opts.capturePath ?? defaultLibraryPaths().capturePath;
    for (const [what, p] of [
      ['ProfitDLL', opts.libraryPath],
      ['capture shim', capturePath],
    ] as const) {
      if (!existsSync(p))
        throw new Error(`${what} not found at ${p}: run \`npm run build:native\` or set PROFITDLL_PATH`);
    }
    return new ProfitConnector(
      koffi.load(opts.libraryPath),
      koffi.load(capturePath),
      opts.ringCapacity ?? 1 << 16,
    );
  }

  get isSimulator(): boolean {
    return this.sim !== undefined;
  }

  /** Logs in with the shim's C callbacks, so every event lands in the ring. */
  login(key: string, user: string, password: string, opts: { routing?: boolean } = {}) {
    const cb = (name: string) => this.capture[name]?.();
    this.fns.SetInvalidTickerCallback?.(cb('invalidTicker'));
    if (opts.routing) {
      check(
        'DLLInitializeLogin',
        this.fns.DLLInitializeLogin?.(
          key,
          user,
          password,
          cb('state'),
          null,
          null,
          null,
          cb('trade'),
          cb('daily'),
          null,
          null,
          cb('historyTrade'),
          null,
          cb('tinyBook'),
        ) as number,
      );
    } else {
      check(
        'DLLInitializeMarketLogin',
        this.fns.DLLInitializeMarketLogin?.(
          key,
          user,
          password,
          cb('state'),
          cb('trade'),
          cb('daily'),
          null,
          null,
          cb('historyTrade'),
          null,
          cb('tinyBook'),
        ) as number,
      );
    }
  }

  /**
   * The benchmark's peer: logs in with a koffi-registered JS function as the trade callback, so
   * every trade crosses from the DLL thread into JS one call at a time.
   */
  loginWithJsTradeCallback(
    key: string,
    user: string,
    password: string,
    onTrade: (price: number, qty: number) => void,
  ) {
    const ptr = koffi.register(
      (_a: unknown, _d: string, _n: number, price: number, _v: number, qty: number) => onTrade(price, qty),
      koffi.pointer(declareTypes().tradeProto),
    );
    this.registered.push(ptr);
    check(
      'DLLInitializeMarketLogin',
      this.fns.DLLInitializeMarketLogin?.(
        key,
        user,
        password,
        this.capture.state?.(),
        ptr,
        null,
        null,
        null,
        null,
        null,
        null,
      ) as number,
    );
  }

  subscribeTicker(ticker: string, exchange: string) {
    check('SubscribeTicker', this.fns.SubscribeTicker?.(ticker, exchange) as number);
  }
  unsubscribeTicker(ticker: string, exchange: string) {
    check('UnsubscribeTicker', this.fns.UnsubscribeTicker?.(ticker, exchange) as number);
  }
  subscribePriceBook(ticker: string, exchange: string) {
    check('SubscribePriceBook', this.fns.SubscribePriceBook?.(ticker, exchange) as number);
  }
  unsubscribePriceBook(ticker: string, exchange: string) {
    check('UnsubscribePriceBook', this.fns.UnsubscribePriceBook?.(ticker, exchange) as number);
  }

  /** Copies up to `max` records into `buf` with one native call; returns how many. */
  drainInto(buf: Buffer, max: number): number {
    const n = Math.min(max, Math.floor(buf.length / RECORD_BYTES));
    return this.capture.drain?.(buf, n) as number;
  }

  /** Drains and decodes up to `max` events (one native call). */
  drain(max = 8192): RawEvent[] {
    const n = this.drainInto(this.drainBuf, max);
    const out: RawEvent[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = decodeRecord(this.drainBuf, i * RECORD_BYTES);
    return out;
  }

  /** Events the ring had to drop because JS did not drain fast enough. */
  dropped(): bigint {
    return BigInt(this.capture.dropped?.() as number | bigint);
  }

  finalize() {
    const code = this.fns.DLLFinalize?.() as number;
    for (const p of this.registered.splice(0)) koffi.unregister(p);
    if (code !== NL.OK && code !== NL.NOT_INITIALIZED) throw new ProfitDllError('DLLFinalize', code);
  }

  private static simControls(lib: LibraryHandle): SimControls | undefined {
    let fns: Record<string, Fn>;
    try {
      fns = {
        setRate: lib.func('int32 SimSetRate(double rate)') as unknown as Fn,
        addTicker: lib.func(
          'int32 SimAddTicker(str16 ticker, str16 exchange, double tick, int32 lot, double price)',
        ) as unknown as Fn,
        burst: lib.func('int32 SimBurst(int64 count)') as unknown as Fn,
        burstPending: lib.func('int64 SimBurstPending()') as unknown as Fn,
        inject: lib.func(
          'int32 SimInjectTrade(str16 ticker, str16 exchange, str16 date, double price, int32 qty, uint32 tradeNumber, int32 tradeType)',
        ) as unknown as Fn,
      };
    } catch {
      return undefined; // the real DLL: no simulator controls
    }
    const call = (name: string, ...args: unknown[]) => check(`Sim${name}`, fns[name]?.(...args) as number);
    return {
      setRate: (r) => call('setRate', r),
      addTicker: (t, e, tick, lot, price) => call('addTicker', t, e, tick, lot, price),
      burst: (n) => call('burst', n),
      burstPending: () => Number(fns.burstPending?.()),
      injectTrade: (t) =>
        call('inject', t.ticker, t.exchange, t.date, t.price, t.qty, t.tradeNumber ?? 1, t.tradeType ?? 1),
    };
  }
}
