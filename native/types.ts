// What the connector takes and gives, as plain types and constants with no koffi: its options,
// the V2 API's orders and accounts, the simulator's controls, the capture shim's callbacks. Code
// that only names them (the order manager, tests) does not load the binding.

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
  /** THistoryTradeCallback calls (GetHistoryTrades answers). */
  readonly historyTrades: number;
  /** TProgressCallback calls. */
  readonly progress: number;
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
  /**
   * Sets the simulator's clock to `at`, running on from there (no argument: the real clock). Every
   * date it prints follows, and so do what history calls today and when a live market begins.
   */
  setClock(at?: Date): void;
  /** The simulator's clock (what setClock set, running on), ms since the epoch. */
  clock(): number;
  /**
   * Every listing's whole history session holds about `perSession` trades (0: the counts by kind
   * of listing, thousands for a stock): dense history for benchmarks.
   */
  setHistoryTrades(perSession: number): void;
  /**
   * The next `count` GetHistoryTrades calls that pass their checks fail: they return `code` (an
   * NL code), or with NL.OK are taken and never answered, like a lost request.
   */
  failHistory(count: number, code: number): void;
  /**
   * GetHistoryTrades with the dates as given, well-formed or not (null passes NULL), answering the
   * return code instead of throwing: what the DLL makes of dates ProfitConnector never sends.
   */
  historyTradesText(ticker: string, exchange: string, dtStart: string | null, dtEnd: string | null): number;
  stats(): SimStats;
  /** Deliveries through the current market-data callbacks since the last DLLFinalize. */
  v2Stats(): SimV2Stats;
  /**
   * The next `translateTrade` TranslateTrade calls and the next `priceGroup` GetPriceGroup calls
   * fail (NL_INTERNAL_ERROR): what the capture shim makes of a V2 read the DLL refuses.
   */
  failV2Reads(translateTrade: number, priceGroup: number): void;
  /** match: orders fill against the book (default); hold: they rest until canceled; reject: all refused. */
  setOrderMode(mode: 'match' | 'hold' | 'reject'): void;
  /** Executes qty of a working order at price, whatever the book says. */
  fillOrder(localOrderId: bigint, qty: number, price: number): void;
  /** Forgets every order (a new day at the broker). */
  resetOrders(): void;
  /**
   * The DLL's routing connection to the broker drops (a ROUTING state other than 5, such as 3
   * broker disconnected) or comes back (5): the simulator thread reports TStateCallback(1, state).
   * While it is down, order requests fail with NL_WAITING_SERVER and the broker's changes are not
   * announced through the order callback, nor replayed when it comes back. Throws ProfitDllError
   * (NL_INVALID_ARGS outside 0..5; the routing session's code, such as NL_NOT_INITIALIZED or
   * NL_MARKET_ONLY, before a routing login has connected).
   */
  setRoutingState(state: number): void;
  orderStats(): SimOrderStats;
  /**
   * A trade made on the account in another terminal (Profit itself, another platform): it moves
   * the broker's position and is announced as an order Tape did not send, filled, with no
   * ClOrderID. Returns its local order id.
   */
  externalTrade(
    account: AccountRef,
    ticker: string,
    exchange: string,
    side: 'buy' | 'sell',
    qty: number,
    price: number,
  ): bigint;
}

/**
 * What the simulator delivered through SetTradeCallbackV2, SetHistoryTradeCallbackV2 and
 * SetPriceDepthCallback (SimGetV2Stats; always 0 from the V1-only library). SimStats counts the
 * deliveries of both generations, so V1 deliveries are its counts minus these.
 */
export interface SimV2Stats {
  readonly trades: number;
  readonly historyTrades: number;
  readonly priceDepths: number;
}

/**
 * Which generation of ProfitDLL's market-data calls the connector uses, found at load, for trades
 * and for the aggregated book apart: 'v2' when the DLL exports the current calls of manual
 * 4.0.0.30 (trades: SetTradeCallbackV2, SetHistoryTradeCallbackV2, TranslateTrade; book:
 * SubscribePriceDepth, UnsubscribePriceDepth, SetPriceDepthCallback, GetPriceGroup,
 * GetPriceDepthSideCount), else 'v1': the obsolete TNewTradeCallback / THistoryTradeCallback and
 * SubscribePriceBook / TPriceBookCallback of older DLLs (docs/native.md).
 */
export interface MarketDataApi {
  readonly trades: 'v2' | 'v1';
  readonly book: 'v2' | 'v1';
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

/** A routing account at a broker (TConnectorAccountIdentifier). */
export interface AccountRef {
  readonly brokerId: number;
  readonly accountId: string;
  readonly subAccountId?: string;
}

/** A trading account the DLL reports for this login (GetAccounts + GetAccountDetails). */
export interface BrokerAccount {
  readonly brokerId: number;
  readonly brokerName: string;
  readonly accountId: string;
  readonly subAccountId: string;
  readonly holder: string;
  /** CA_IS_ENABLED: the broker lets the account trade. */
  readonly enabled: boolean;
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

/**
 * The broker's position of an account in one asset (EnumerateAllPositionAssets + GetPositionV2),
 * whoever traded it: Tape, Profit, another terminal. Every value checked (binding.ts).
 */
export interface BrokerPosition {
  readonly ticker: string;
  readonly exchange: string;
  /** Open quantity, signed: + long, − short, 0 flat. */
  readonly qty: number;
  /** Average price of the open quantity (0 when flat). */
  readonly averagePrice: number;
  /** Bought and sold today, with their average prices (0 when none). */
  readonly dayBuyQty: number;
  readonly dayBuyAverage: number;
  readonly daySellQty: number;
  readonly daySellAverage: number;
  /** What the broker lets the account close now (DailyQuantityAvailable). */
  readonly availableQty: number;
}

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
  // The current market-data API (MarketDataApi 'v2'): same records, read with TranslateTrade / GetPriceGroup.
  'trade_v2',
  'history_trade_v2',
  'price_depth',
] as const;
export type CaptureCallback = (typeof CAPTURE_CALLBACKS)[number];
