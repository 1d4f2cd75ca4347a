import koffi, { type LibraryHandle, type TypeObject } from 'koffi';
import { NL, ProfitDllError } from './errors.ts';
import type { AccountRef, BrokerPosition } from './types.ts';

// The koffi declarations of ProfitDLL: its records and callback prototypes, the exports Tape
// binds, and the conversions between the V2 records and Tape's types. The same prototypes drive
// the real ProfitDLL64.dll on Windows and the simulator library on Linux (docs/native.md).

export type Fn = (...args: unknown[]) => unknown;

// Named koffi types are process-wide, so they are declared once, on first use.
let types: { trade: TypeObject; enumerateOrders: TypeObject; enumerateAssets: TypeObject } | undefined;
export function declareTypes(): {
  trade: TypeObject;
  enumerateOrders: TypeObject;
  enumerateAssets: TypeObject;
} {
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
    historyTrades: 'int64',
    progress: 'int64',
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
  koffi.struct('TConnectorTradingAccountOut', {
    version: 'uint8',
    accountId: 'TConnectorAccountIdentifier',
    brokerName: 'uint16 *',
    brokerNameLength: 'int32',
    ownerName: 'uint16 *',
    ownerNameLength: 'int32',
    subOwnerName: 'uint16 *',
    subOwnerNameLength: 'int32',
    accountFlags: 'uint32',
    accountType: 'uint8',
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
  // GetPositionV2's record: Tape's reading of the public bindings (profitdll.h), to verify on Windows.
  koffi.struct('TConnectorTradingAccountPosition', {
    version: 'uint8',
    accountId: 'TConnectorAccountIdentifier',
    assetId: 'TConnectorAssetIdentifier',
    ...positionFields,
  });
  types = {
    trade: koffi.proto(
      'void __stdcall TNewTradeCallback(TAssetIDRec asset, str16 date, uint32 tradeNumber, double price, double volume, int32 qty, int32 buyAgent, int32 sellAgent, int32 tradeType, uint8 isEdit)',
    ),
    enumerateOrders: koffi.proto(
      'int32 __stdcall TConnectorEnumerateOrdersProc(TConnectorOrder *order, int64 param)',
    ),
    enumerateAssets: koffi.proto(
      'int32 __stdcall TConnectorEnumerateAssetProc(TConnectorAssetIdentifier *asset, int64 param)',
    ),
  };
  return types;
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
/** A Date as the DLL's request dates want it: DD/MM/YYYY HH:MM:SS in Brasília time (UTC−3), ms dropped. */
export function b3RequestDate(d: Date): string {
  const t = new Date(d.getTime() - B3_OFFSET_MS);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(t.getUTCDate())}/${p(t.getUTCMonth() + 1)}/${p(t.getUTCFullYear(), 4)} ${p(t.getUTCHours())}:${p(t.getUTCMinutes())}:${p(t.getUTCSeconds())}`;
}
const fromSystemTime = (t: SystemTime): number | null =>
  t.year === 0
    ? null
    : Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second, t.milliseconds) + B3_OFFSET_MS;

export interface OrderFields {
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

export const orderFields = (o: OrderFields) => ({
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

export const accountRecord = (a: AccountRef) => ({
  version: 0,
  brokerId: a.brokerId,
  accountId: a.accountId,
  subAccountId: a.subAccountId ?? '',
  reserved: 0,
});

/** A string out of a caller-owned buffer: `units` written, NUL included. */
export const fromUnits = (buf: Uint16Array, units: number) =>
  String.fromCharCode(...buf.subarray(0, Math.max(0, Math.min(units, buf.length) - 1)));

/** A TConnectorAccountIdentifierOut the DLL fills: its two strings go into `account` and `sub`, `units` each. */
export function accountOut(account: Uint16Array, sub: Uint16Array, units: number) {
  return {
    version: 0,
    brokerId: 0,
    accountId: account,
    accountIdLength: units,
    subAccountId: sub,
    subAccountIdLength: units,
    reserved: 0,
  };
}

/** An out string the DLL wrote, or a ProfitDllError when it is not one (too long, not UTF-16). */
export function dllString(what: string, buf: Uint16Array, units: number, capacity: number): string {
  if (units < 1 || units > capacity)
    throw new ProfitDllError(`${what} of ${units} units from the DLL`, NL.INTERNAL_ERROR);
  const s = fromUnits(buf, units);
  if (!s.isWellFormed())
    throw new ProfitDllError(`${what} from the DLL is not well-formed UTF-16`, NL.INTERNAL_ERROR);
  return s;
}

// ---- Positions (GetPositionV2, EnumerateAllPositionAssets) ----

/** TConnectorTradingAccountPosition after its identifiers, in the record's order. */
const positionFields = {
  openQuantity: 'int64',
  openAveragePrice: 'double',
  openSide: 'uint8',
  dailyAverageSellPrice: 'double',
  dailySellQuantity: 'int64',
  dailyAverageBuyPrice: 'double',
  dailyBuyQuantity: 'int64',
  dailyQuantityD1: 'int64',
  dailyQuantityD2: 'int64',
  dailyQuantityD3: 'int64',
  dailyQuantityBlocked: 'int64',
  dailyQuantityPending: 'int64',
  dailyQuantityAlloc: 'int64',
  dailyQuantityProvision: 'int64',
  dailyQuantity: 'int64',
  dailyQuantityAvailable: 'int64',
} as const;
type PositionField = keyof typeof positionFields;
/** The record as koffi hands it back: int64 as a number, or a bigint beyond 2^53. */
export type PositionRecord = Record<PositionField, number | bigint>;

/** The record GetPositionV2 reads its question from (account, asset) and writes its answer into. */
export function positionRecord(account: AccountRef, ticker: string, exchange: string) {
  const answer = Object.fromEntries(Object.keys(positionFields).map((k) => [k, 0])) as Record<
    PositionField,
    number
  >;
  return {
    version: 0,
    accountId: accountRecord(account),
    assetId: { version: 0, ticker, exchange, feedType: 0 },
    ...answer,
  };
}

const badValue = (what: string, value: unknown) =>
  new ProfitDllError(`${what} of ${String(value)} from the DLL`, NL.INTERNAL_ERROR);

/** A quantity from the DLL: an integer from 0 to Number.MAX_SAFE_INTEGER, or a ProfitDllError. */
function dllQuantity(what: string, v: number | bigint): number {
  const n =
    typeof v === 'bigint' ? (v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : Number.NaN) : v;
  if (!Number.isSafeInteger(n) || n < 0) throw badValue(what, v);
  return n;
}

/** A price from the DLL: finite and not negative (0 when there is none), or a ProfitDllError. */
function dllPrice(what: string, v: number | bigint): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw badValue(what, v);
  return v;
}

/** PositionSide of TConnectorTradingAccountPosition.OpenSide: 0 flat, 1 long (buy), 2 short (sell). */
const POSITION_SIDE = { flat: 0, long: 1, short: 2 } as const;

/**
 * GetPositionV2's answer for (ticker, exchange) as a BrokerPosition, every field checked: a value
 * the DLL cannot have meant (a NaN or negative price, a fractional or unsafe quantity, a side that
 * contradicts the quantity) is a ProfitDllError naming the field, never a position.
 */
export function brokerPosition(r: PositionRecord, ticker: string, exchange: string): BrokerPosition {
  const what = (field: string) => `GetPositionV2(${ticker}) ${field}`;
  const open = dllQuantity(what('OpenQuantity'), r.openQuantity);
  const side = r.openSide;
  const flat = side === POSITION_SIDE.flat;
  if (
    (side !== POSITION_SIDE.flat && side !== POSITION_SIDE.long && side !== POSITION_SIDE.short) ||
    flat !== (open === 0)
  )
    throw badValue(what(`OpenSide with OpenQuantity ${open}`), side);
  return {
    ticker,
    exchange,
    qty: side === POSITION_SIDE.short ? -open : open,
    averagePrice: dllPrice(what('OpenAveragePrice'), r.openAveragePrice),
    dayBuyQty: dllQuantity(what('DailyBuyQuantity'), r.dailyBuyQuantity),
    dayBuyAverage: dllPrice(what('DailyAverageBuyPrice'), r.dailyAverageBuyPrice),
    daySellQty: dllQuantity(what('DailySellQuantity'), r.dailySellQuantity),
    daySellAverage: dllPrice(what('DailyAverageSellPrice'), r.dailyAverageSellPrice),
    availableQty: dllQuantity(what('DailyQuantityAvailable'), r.dailyQuantityAvailable),
  };
}

/** An asset EnumerateAllPositionAssets named: both strings non-empty, well-formed UTF-16. */
export function positionAsset(a: { ticker: string | null; exchange: string | null }): {
  ticker: string;
  exchange: string;
} {
  const str = (what: string, s: string | null) => {
    if (s === null || s.length === 0 || !s.isWellFormed())
      throw new ProfitDllError(
        `EnumerateAllPositionAssets: ${what} ${s ? 'is not well-formed UTF-16' : 'is empty'}`,
        NL.INTERNAL_ERROR,
      );
    return s;
  };
  return { ticker: str('ticker', a.ticker), exchange: str('exchange', a.exchange) };
}

/** ProfitDLL's exports Tape calls, with the same prototypes for the real DLL and the simulator. */
export function bindDll(lib: LibraryHandle) {
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
    // Dates as DD/MM/YYYY HH:MM:SS, Brasília time (b3RequestDate).
    GetHistoryTrades: f(
      'int32 __stdcall GetHistoryTrades(str16 ticker, str16 exchange, str16 dtStart, str16 dtEnd)',
    ),
    GetAgentNameLength: f('int32 __stdcall GetAgentNameLength(int32 agentId, uint32 shortName)'),
    // The buffer is a Uint16Array of `length` units, which koffi passes as the pointer.
    GetAgentName: f(
      'int32 __stdcall GetAgentName(int32 length, int32 agentId, _Out_ void *buffer, uint32 shortName)',
    ),
    // `close` is a one-element Float64Array koffi passes as the pointer.
    GetLastDailyClose: f(
      'int32 __stdcall GetLastDailyClose(str16 ticker, str16 exchange, _Out_ double *close, int32 adjusted)',
    ),
  };
}

/** The V2 order exports: bound on first use, so a market-data-only DLL build still loads. */
export function bindOrders(lib: LibraryHandle) {
  declareTypes();
  const f = (decl: string) => lib.func(decl) as unknown as Fn;
  return {
    SetOrderCallback: f('int32 __stdcall SetOrderCallback(void *cb)'),
    SendOrder: f('int64 __stdcall SendOrder(TConnectorSendOrder *order)'),
    SendChangeOrderV2: f('int32 __stdcall SendChangeOrderV2(TConnectorChangeOrder *change)'),
    SendCancelOrderV2: f('int32 __stdcall SendCancelOrderV2(TConnectorCancelOrder *cancel)'),
    SendCancelAllOrdersV2: f('int32 __stdcall SendCancelAllOrdersV2(TConnectorCancelAllOrders *cancel)'),
    GetOrderDetails: f('int32 __stdcall GetOrderDetails(_Inout_ TConnectorOrderOut *order)'),
    GetAccountCount: f('int32 __stdcall GetAccountCount()'),
    GetAccounts: f(
      'int32 __stdcall GetAccounts(int32 startSource, int32 startDest, int32 count, _Inout_ TConnectorAccountIdentifierOut *accounts)',
    ),
    GetAccountDetails: f('int32 __stdcall GetAccountDetails(_Inout_ TConnectorTradingAccountOut *account)'),
    EnumerateAllOrders: f(
      'int32 __stdcall EnumerateAllOrders(TConnectorAccountIdentifier *account, uint8 version, int64 param, TConnectorEnumerateOrdersProc *proc)',
    ),
    EnumerateAllPositionAssets: f(
      'int32 __stdcall EnumerateAllPositionAssets(TConnectorAccountIdentifier *account, uint8 version, int64 param, TConnectorEnumerateAssetProc *proc)',
    ),
    GetPositionV2: f('int32 __stdcall GetPositionV2(_Inout_ TConnectorTradingAccountPosition *position)'),
  };
}
export type Dll = ReturnType<typeof bindDll>;
export type TickerRequest = Extract<keyof Dll, `${string}ubscribe${string}`>;

// ---- The current market-data API (manual 4.0.0.30): V2 trades and the price depth ----
// The records as native/include/profitdll.h declares them (natural alignment). API.md names the
// calls only: these layouts are Tape's reading of the public bindings, to verify on Windows
// (docs/native.md); the C header asserts the same offsets.

let marketV2Declared = false;
function declareMarketV2Types(): void {
  if (marketV2Declared) return;
  declareTypes(); // TSystemTime, TConnectorAssetIdentifier
  koffi.struct('TConnectorTrade', {
    version: 'uint8',
    tradeDate: 'TSystemTime',
    tradeNumber: 'uint32',
    price: 'double',
    quantity: 'int64',
    volume: 'double',
    buyAgent: 'int32',
    sellAgent: 'int32',
    tradeType: 'uint8',
  });
  koffi.struct('TConnectorPriceGroup', {
    version: 'uint8',
    price: 'double',
    count: 'uint32',
    quantity: 'int64',
    priceGroupFlags: 'uint32',
  });
  marketV2Declared = true;
}

/** The exports of one generation, or undefined when the DLL lacks any of them (koffi throws). */
function bindAll<T>(bind: () => T): T | undefined {
  try {
    return bind();
  } catch {
    return undefined;
  }
}

/**
 * The V2 market-data exports the DLL has, by group: `trades` (SetTradeCallbackV2,
 * SetHistoryTradeCallbackV2, TranslateTrade) and `book` (SubscribePriceDepth,
 * UnsubscribePriceDepth, SetPriceDepthCallback, GetPriceGroup, GetPriceDepthSideCount). A group
 * missing any export is undefined: the connector then uses the obsolete V1 calls for it. The
 * addresses of TranslateTrade and GetPriceGroup go to the capture shim, which reads each event
 * with them on the DLL's thread.
 */
export function bindMarketV2(lib: LibraryHandle) {
  declareMarketV2Types();
  const f = (decl: string) => lib.func(decl) as unknown as Fn;
  const trades = bindAll(() => ({
    SetTradeCallbackV2: f('int32 __stdcall SetTradeCallbackV2(void *cb)'),
    SetHistoryTradeCallbackV2: f('int32 __stdcall SetHistoryTradeCallbackV2(void *cb)'),
    translateTrade: lib.symbol('TranslateTrade') as bigint,
  }));
  const book = bindAll(() => ({
    SubscribePriceDepth: f('int32 __stdcall SubscribePriceDepth(TConnectorAssetIdentifier *asset)'),
    UnsubscribePriceDepth: f('int32 __stdcall UnsubscribePriceDepth(TConnectorAssetIdentifier *asset)'),
    SetPriceDepthCallback: f('int32 __stdcall SetPriceDepthCallback(void *cb)'),
    GetPriceGroup: f(
      'int32 __stdcall GetPriceGroup(TConnectorAssetIdentifier *asset, uint8 side, int32 position, _Out_ TConnectorPriceGroup *group)',
    ),
    GetPriceDepthSideCount: f(
      'int32 __stdcall GetPriceDepthSideCount(TConnectorAssetIdentifier *asset, uint8 side)',
    ),
    getPriceGroup: lib.symbol('GetPriceGroup') as bigint,
  }));
  return { trades, book };
}
export type MarketV2 = ReturnType<typeof bindMarketV2>;

/** A TConnectorAssetIdentifier of a ticker (version 0, feed 0). */
export const assetIdentifier = (ticker: string, exchange: string) => ({
  version: 0,
  ticker,
  exchange,
  feedType: 0,
});
