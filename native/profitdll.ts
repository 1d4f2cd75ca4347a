import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import koffi, { type LibraryHandle } from 'koffi';
import {
  accountOut,
  accountRecord,
  assetIdentifier,
  b3RequestDate,
  bindDll,
  bindMarketV2,
  bindOrders,
  brokerPosition,
  type Dll,
  declareTypes,
  dllString,
  type Fn,
  fromUnits,
  type MarketV2,
  type OrderFields,
  orderFields,
  type PositionRecord,
  positionAsset,
  positionRecord,
  type TickerRequest,
} from './binding.ts';
import { DEFAULT_RING, RING_MAX, RING_MIN } from './captureRing.ts';
import { check, NL, ProfitDllError } from './errors.ts';
import { decodeAt, type RawEvent, RECORD_BYTES, type Views, viewsOf } from './records.ts';
import { simControls } from './simControls.ts';
import {
  type AccountRef,
  type BrokerAccount,
  type BrokerPosition,
  CAPTURE_CALLBACKS,
  type CaptureCallback,
  type ConnectorOptions,
  type DllOrder,
  type JsTrade,
  type MarketDataApi,
  OrderSide,
  OrderType,
  type SendOrderRequest,
  type SimControls,
} from './types.ts';

// ProfitConnector, the one way into ProfitDLL: it loads the DLL (or the simulator) and the
// capture shim, logs in, subscribes, routes orders and drains the ring. Callbacks handed to the
// DLL are C functions of the shim, which copy each event into a native ring; JS drains that ring
// in batches with one koffi call (docs/native.md). What it calls is declared in binding.ts.

/**
 * Calls `read` with `count` UTF-16 buffers of 64 units, then 256, 1024…, until every string
 * length it reports fits (or the buffers reach `max` units): the DLL reports the length a
 * string needs when the buffer given was too short.
 */
function readStrings<T>(
  count: number,
  max: number,
  read: (bufs: Uint16Array[], units: number) => { lengths: readonly number[]; value: () => T },
): T {
  for (let units = 64; ; units *= 4) {
    const bufs = Array.from({ length: count }, () => new Uint16Array(units));
    const { lengths, value } = read(bufs, units);
    if (lengths.some((n) => n > units) && units < max) continue;
    return value();
  }
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

const DRAIN_BATCH = 8192;

/** TConnectorTradingAccountOut.AccountFlags. */
const CA_IS_ENABLED = 2;
/** Accounts read at most: a login with more is not one trader's. */
const MAX_ACCOUNTS = 256;
/** Longer than any broker's name: a length past it is the DLL's error, not a name. */
const MAX_AGENT_UNITS = 1024;

// The DLL, the shim and its ring are process-wide: one logged-in connector at a time.
let loggedIn: ProfitConnector | undefined;

export class ProfitConnector {
  readonly sim: SimControls | undefined;
  /**
   * The market-data calls this DLL is driven with, found at load by its exports: the current V2
   * ones when it has them, else the obsolete V1 ones (docs/native.md). The server logs it once.
   */
  readonly marketDataApi: MarketDataApi;
  private readonly marketV2: MarketV2;
  private readonly dll: Dll;
  private readonly lib: LibraryHandle;
  private orderFns: ReturnType<typeof bindOrders> | undefined;
  private readonly captureDrain: Fn;
  private readonly captureDropped: Fn;
  private readonly capturePending: Fn;
  private readonly captureCapacity: Fn;
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
    this.capturePending = c('uint64 tape_capture_pending()');
    this.captureCapacity = c('int32 tape_capture_capacity()');
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
    this.marketV2 = bindMarketV2(lib);
    const { trades, book } = this.marketV2;
    this.marketDataApi = { trades: trades ? 'v2' : 'v1', book: book ? 'v2' : 'v1' };
    // The shim reads each V2 event with the DLL's own TranslateTrade / GetPriceGroup.
    c('void tape_capture_set_v2(void *translateTrade, void *getPriceGroup)')(
      trades?.translateTrade ?? null,
      book?.getPriceGroup ?? null,
    );
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
    this.initialize(key, user, password, opts.routing === true, this.marketV2.trades ? null : cb.trade);
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

  /**
   * SendChangeOrderV2: a new limit price and total quantity for a working order, and for a
   * stop-limit still waiting for its trigger a new stop price (omitted: it keeps its own).
   */
  changeOrder(
    account: AccountRef,
    localOrderId: bigint,
    price: number,
    qty: number,
    password: string,
    stopPrice?: number,
  ): void {
    const code = this.orders.SendChangeOrderV2({
      version: 0,
      accountId: accountRecord(account),
      orderId: { version: 0, localOrderId, clOrderId: '' },
      password,
      price,
      stopPrice: stopPrice ?? -1,
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

  /**
   * The login's trading accounts: GetAccountCount, then GetAccounts and GetAccountDetails for
   * each, into buffers of ours (grown and asked again when a string did not fit). Empty until
   * routing has reached the broker. Every string is checked: a malformed one is an error, not an
   * account.
   */
  accounts(): BrokerAccount[] {
    const count = this.orders.GetAccountCount() as number;
    if (count < 0) check('GetAccountCount', count);
    const list: BrokerAccount[] = [];
    for (let i = 0; i < Math.min(count, MAX_ACCOUNTS); i++) {
      const id = this.accountAt(i);
      if (!id) break; // the list shrank meanwhile
      list.push({ ...id, ...this.accountDetails(id) });
    }
    return list;
  }

  private accountAt(
    index: number,
  ): Pick<BrokerAccount, 'brokerId' | 'accountId' | 'subAccountId'> | undefined {
    return readStrings(2, 4096, (bufs, units) => {
      const [account, sub] = bufs as [Uint16Array, Uint16Array];
      const out = accountOut(account, sub, units);
      const filled = this.orders.GetAccounts(index, 0, 1, out) as number;
      if (filled < 0) check(`GetAccounts(${index})`, filled);
      if (filled === 0) return { lengths: [], value: () => undefined }; // the list shrank meanwhile
      return {
        lengths: [out.accountIdLength, out.subAccountIdLength],
        value: () => ({
          brokerId: out.brokerId,
          accountId: dllString('account id', account, out.accountIdLength, units),
          subAccountId: dllString('sub-account id', sub, out.subAccountIdLength, units),
        }),
      };
    });
  }

  private accountDetails(id: AccountRef): Pick<BrokerAccount, 'brokerName' | 'holder' | 'enabled'> {
    return readStrings(3, 4096, (bufs, units) => {
      const [broker, owner, subOwner] = bufs as [Uint16Array, Uint16Array, Uint16Array];
      const out = {
        version: 0,
        accountId: accountRecord(id),
        brokerName: broker,
        brokerNameLength: units,
        ownerName: owner,
        ownerNameLength: units,
        subOwnerName: subOwner,
        subOwnerNameLength: units,
        accountFlags: 0,
        accountType: 0,
      };
      check(`GetAccountDetails(${id.accountId})`, this.orders.GetAccountDetails(out) as number);
      return {
        lengths: [out.brokerNameLength, out.ownerNameLength, out.subOwnerNameLength],
        value: () => ({
          brokerName: dllString('broker name', broker, out.brokerNameLength, units),
          holder: dllString('holder', owner, out.ownerNameLength, units),
          enabled: (out.accountFlags & CA_IS_ENABLED) !== 0,
        }),
      };
    });
  }

  /**
   * The broker ("agente") of a trade's buyAgent/sellAgent or an offer's agent, by its B3 code:
   * its short name (e.g. "XP") or its full one; undefined for a code the DLL does not know.
   * GetAgentNameLength says how many units the name takes (NUL included), GetAgentName fills a
   * buffer of that many. A name that is not well-formed UTF-16 is an error, not a name.
   */
  agentName(agentId: number, short: boolean): string | undefined {
    const what = `GetAgentName(${agentId})`;
    const units = this.dll.GetAgentNameLength(agentId, short ? 1 : 0) as number;
    if (units === NL.NOT_FOUND) return undefined;
    if (units < 0) check(`GetAgentNameLength(${agentId})`, units);
    if (units < 1 || units > MAX_AGENT_UNITS)
      throw new ProfitDllError(`${what}: a name of ${units} units`, NL.INTERNAL_ERROR);
    const buf = new Uint16Array(units);
    const rc = this.dll.GetAgentName(units, agentId, buf, short ? 1 : 0) as number;
    if (rc === NL.NOT_FOUND) return undefined;
    check(what, rc);
    const end = buf.indexOf(0);
    return dllString('agent name', buf, end < 0 ? units : end + 1, units);
  }

  /**
   * The previous session's close of a ticker (GetLastDailyClose): what B3 measures the day's
   * change against. `adjusted` asks for the close adjusted for corporate events (for futures,
   * the settlement). Undefined when the DLL has none (0 or not finite).
   */
  lastDailyClose(ticker: string, exchange: string, adjusted = false): number | undefined {
    const out = new Float64Array(1);
    check(
      `GetLastDailyClose(${ticker}, ${exchange})`,
      this.dll.GetLastDailyClose(ticker, exchange, out, adjusted ? 1 : 0) as number,
    );
    const close = out[0] as number;
    return Number.isFinite(close) && close > 0 ? close : undefined;
  }

  /** GetOrderDetails, into buffers of ours; grows them and asks again when a string did not fit. */
  orderDetails(localOrderId: bigint): DllOrder {
    return readStrings(5, 65536, (bufs, units) => {
      const out = {
        version: 0,
        orderId: { version: 0, localOrderId, clOrderId: '' },
        accountId: accountOut(bufs[0] as Uint16Array, bufs[1] as Uint16Array, units),
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
      const text = (i: number) => fromUnits(bufs[i] as Uint16Array, lengths[i] as number);
      return {
        lengths,
        value: () => ({
          localOrderId,
          clOrderId: '',
          brokerId: out.accountId.brokerId,
          accountId: text(0),
          subAccountId: text(1),
          ticker: text(2),
          exchange: text(3),
          ...orderFields(out as unknown as OrderFields),
          text: text(4),
        }),
      };
    });
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
   * EnumerateAllPositionAssets: the assets the account holds a position in or traded today, at
   * the broker, whoever traded them (Tape, Profit, another terminal). Each one's strings are
   * checked once the walk is over, so nothing throws inside the DLL's call.
   */
  positionAssets(account: AccountRef): { ticker: string; exchange: string }[] {
    const found: { ticker: string | null; exchange: string | null }[] = [];
    const proc = koffi.register((ptr: unknown) => {
      const a = koffi.decode(ptr, 'TConnectorAssetIdentifier') as {
        ticker: string | null;
        exchange: string | null;
      };
      found.push({ ticker: a.ticker, exchange: a.exchange });
      return 0; // nonzero would stop the walk
    }, koffi.pointer(declareTypes().enumerateAssets));
    try {
      check(
        `EnumerateAllPositionAssets(${account.accountId})`,
        this.orders.EnumerateAllPositionAssets(accountRecord(account), 0, 0, proc) as number,
      );
    } finally {
      koffi.unregister(proc);
    }
    return found.map(positionAsset);
  }

  /**
   * GetPositionV2: the broker's position of the account in one asset; undefined when it has none
   * (NL_NO_POSITION). Every value is checked (binding.ts brokerPosition): a bad one throws a
   * ProfitDllError with NL_INTERNAL_ERROR naming the field.
   */
  position(account: AccountRef, ticker: string, exchange: string): BrokerPosition | undefined {
    const record = positionRecord(account, ticker, exchange);
    const code = this.orders.GetPositionV2(record) as number;
    if (code === NL.NO_POSITION) return undefined;
    check(`GetPositionV2(${ticker}, ${exchange})`, code);
    return brokerPosition(record as PositionRecord, ticker, exchange);
  }

  /** Every position of the account at the broker: positionAssets, then position for each. */
  positions(account: AccountRef): BrokerPosition[] {
    return this.positionAssets(account).flatMap((a) => this.position(account, a.ticker, a.exchange) ?? []);
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

  /**
   * `trade` is the V1 trade callback, or null for the V2 one (SetTradeCallbackV2). History and
   * the price book take the V2 callbacks when the DLL has them, never both generations at once.
   */
  private initialize(
    key: string,
    user: string,
    password: string,
    routing: boolean,
    trade: bigint | null,
  ): void {
    if (loggedIn)
      throw new ProfitDllError(
        routing ? 'DLLInitializeLogin' : 'DLLInitializeMarketLogin',
        NL.DUPLICATE_RESOURCE,
      );
    const cb = this.callbacks;
    const historyTrade = this.marketV2.trades ? null : cb.history_trade;
    const priceBook = this.marketV2.book ? null : cb.price_book;
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
          priceBook,
          cb.offer_book,
          historyTrade,
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
          priceBook,
          cb.offer_book,
          historyTrade,
          cb.progress,
          cb.tiny_book,
        ) as number);
    check(routing ? 'DLLInitializeLogin' : 'DLLInitializeMarketLogin', code);
    loggedIn = this;
    this.registerMarketV2(trade === null);
  }

  /** The V2 market-data callbacks, right after login returned NL_OK (API.md). */
  private registerMarketV2(trade: boolean): void {
    const { trades, book } = this.marketV2;
    const cb = this.callbacks;
    if (trades && trade) check('SetTradeCallbackV2', trades.SetTradeCallbackV2(cb.trade_v2) as number);
    if (trades)
      check('SetHistoryTradeCallbackV2', trades.SetHistoryTradeCallbackV2(cb.history_trade_v2) as number);
    if (book) check('SetPriceDepthCallback', book.SetPriceDepthCallback(cb.price_depth) as number);
  }

  subscribeTicker(ticker: string, exchange: string): void {
    this.request('SubscribeTicker', ticker, exchange);
  }
  unsubscribeTicker(ticker: string, exchange: string): void {
    this.request('UnsubscribeTicker', ticker, exchange);
  }
  /** The aggregated book: SubscribePriceDepth when the DLL has it, else SubscribePriceBook. */
  subscribePriceBook(ticker: string, exchange: string): void {
    this.bookRequest('Subscribe', ticker, exchange);
  }
  unsubscribePriceBook(ticker: string, exchange: string): void {
    this.bookRequest('Unsubscribe', ticker, exchange);
  }

  private bookRequest(op: 'Subscribe' | 'Unsubscribe', ticker: string, exchange: string): void {
    const book = this.marketV2.book;
    if (!book) {
      this.request(`${op}PriceBook`, ticker, exchange);
      return;
    }
    const code = book[`${op}PriceDepth`](assetIdentifier(ticker, exchange)) as number;
    check(`${op}PriceDepth(${ticker}, ${exchange})`, code);
  }

  /**
   * One side of the DLL's price depth as it holds it now (GetPriceDepthSideCount, then
   * GetPriceGroup per level), best first, raw and not validated; undefined when the DLL has only
   * the V1 price book. The live book comes through drain() as priceBook events either way.
   */
  priceDepth(
    ticker: string,
    exchange: string,
    side: 0 | 1,
  ): { price: number; qty: number; count: number; flags: number }[] | undefined {
    const book = this.marketV2.book;
    if (!book) return undefined;
    const asset = assetIdentifier(ticker, exchange);
    const n = book.GetPriceDepthSideCount(asset, side) as number;
    if (n < 0) check(`GetPriceDepthSideCount(${ticker}, ${exchange})`, n);
    const levels = [];
    for (let i = 0; i < n; i++) {
      const g = { version: 0, price: 0, count: 0, quantity: 0, priceGroupFlags: 0 };
      const rc = book.GetPriceGroup(asset, side, i, g) as number;
      if (rc === NL.OUT_OF_RANGE) break; // the side shrank meanwhile
      check(`GetPriceGroup(${ticker}, ${side}, ${i})`, rc);
      levels.push({ price: g.price, qty: Number(g.quantity), count: g.count, flags: g.priceGroupFlags });
    }
    return levels;
  }
  subscribeOfferBook(ticker: string, exchange: string): void {
    this.request('SubscribeOfferBook', ticker, exchange);
  }
  unsubscribeOfferBook(ticker: string, exchange: string): void {
    this.request('UnsubscribeOfferBook', ticker, exchange);
  }

  /**
   * GetHistoryTrades: asks the DLL for the ticker's trades from `from` to `to` (its whole second
   * included), sent as Brasília time. Returns at once; the trades come through drain() as `trade`
   * events with `history: true`, oldest first, and a `progress` event reaches 100 after the last
   * one: the end of the answer, which THistoryTradeCallback does not flag. Refusals throw a
   * ProfitDllError: NL_OUT_OF_RANGE for a range longer than the DLL serves in one request (ask
   * in chunks), NL_INVALID_ARGS for `to` before `from`. A ticker not subscribed with
   * subscribeTicker gets no trades, only the progress of 100.
   */
  historyTrades(ticker: string, exchange: string, from: Date, to: Date): void {
    for (const [name, d] of [
      ['from', from],
      ['to', to],
    ] as const)
      if (!Number.isFinite(d.getTime())) throw new RangeError(`historyTrades: ${name} is not a valid Date`);
    const start = b3RequestDate(from);
    const end = b3RequestDate(to);
    const code = this.dll.GetHistoryTrades(ticker, exchange, start, end) as number;
    check(`GetHistoryTrades(${ticker}, ${exchange}, ${start}, ${end})`, code);
  }

  /**
   * The DLL's clock, ms since the epoch: the today and now its history is cut at. The
   * simulator's own (SimSetClock); for the real DLL the machine's (GetServerClock is not bound).
   */
  clock(): number {
    return this.sim ? this.sim.clock() : Date.now();
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

  /** The capture ring's size in records, and the records waiting in it to be drained. */
  ring(): { capacity: number; used: number } {
    return {
      capacity: this.captureCapacity() as number,
      used: Number(this.capturePending() as number | bigint),
    };
  }

  /** DLLFinalize: the DLL stops calling back; login() may follow. Idempotent. */
  finalize(): void {
    const code = this.dll.DLLFinalize() as number;
    if (loggedIn === this) loggedIn = undefined;
    for (const p of this.registered.splice(0)) koffi.unregister(p);
    if (code !== NL.OK && code !== NL.NOT_INITIALIZED) throw new ProfitDllError('DLLFinalize', code);
  }
}
