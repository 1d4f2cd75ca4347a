import type { LibraryHandle } from 'koffi';
import { accountRecord, declareTypes, type Fn } from './binding.ts';
import { check, NL, ProfitDllError } from './errors.ts';
import { OrderSide, type SimControls, type SimStats } from './types.ts';

// The simulator's own exports (Sim*, which the real DLL lacks) as SimControls: the rate, bursts,
// injected trades, ticker states, order modes and the counters tests and benchmarks read.

/** The simulator's controls; undefined for a library without SimSetRate (the real DLL). */
export function simControls(lib: LibraryHandle): SimControls | undefined {
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
  const setClock = required('int32 SimSetClock(int64 epochMs)');
  const getClock = required('int64 SimGetClock()');
  const historyTrades = required('int32 SimSetHistoryTrades(int64 perSession)');
  const historyFault = required('int32 SimSetHistoryFault(int32 count, int32 code)');
  // The DLL's own export, bound here for dates as text: ProfitConnector.historyTrades formats Dates.
  const historyText = required(
    'int32 __stdcall GetHistoryTrades(str16 ticker, str16 exchange, str16 dtStart, str16 dtEnd)',
  );
  // SimV2Stats is three int64s: read into a BigInt64Array, koffi passes it as the pointer.
  const getV2Stats = required('int32 SimGetV2Stats(_Out_ int64 *out)');
  const v2Fault = required('int32 SimSetV2Fault(int32 translateTrade, int32 priceGroup)');
  declareTypes(); // SimStats, SimOrderStats
  const getStats = required('int32 SimGetStats(_Out_ SimStats *out)');
  const orderMode = required('int32 SimSetOrderMode(int32 mode)');
  const fillOrder = required('int32 SimFillOrder(int64 localOrderId, int64 qty, double price)');
  const resetOrders = required('int32 SimResetOrders()');
  const getOrderStats = required('int32 SimGetOrderStats(_Out_ SimOrderStats *out)');
  const routingState = required('int32 SimSetRoutingState(int32 state)');
  const externalTrade = required(
    'int64 SimExternalTrade(TConnectorAccountIdentifier *account, str16 ticker, str16 exchange, uint8 side, int64 qty, double price)',
  );
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
      historyTrades: n('historyTrades'),
      progress: n('progress'),
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
    historyTradesText: (ticker, exchange, dtStart, dtEnd) =>
      historyText(ticker, exchange, dtStart, dtEnd) as number,
    setClock: (at) => {
      const ms = at ? at.getTime() : 0;
      // 0 is the simulator's "real clock", so the epoch itself cannot be asked for (nor wants to be).
      if (!Number.isInteger(ms) || ms < 0 || (at && ms === 0))
        throw new RangeError(`setClock: ${at} is not a Date after 1970`);
      check('SimSetClock', setClock(ms) as number);
    },
    clock: () => Number(getClock()),
    setHistoryTrades: (n) => check('SimSetHistoryTrades', historyTrades(n) as number),
    failHistory: (count, code) => check('SimSetHistoryFault', historyFault(count, code) as number),
    stats,
    v2Stats: () => {
      const s = new BigInt64Array(3);
      check('SimGetV2Stats', getV2Stats(s) as number);
      return { trades: Number(s[0]), historyTrades: Number(s[1]), priceDepths: Number(s[2]) };
    },
    failV2Reads: (translateTrade, priceGroup) =>
      check('SimSetV2Fault', v2Fault(translateTrade, priceGroup) as number),
    setOrderMode: (mode) =>
      check('SimSetOrderMode', orderMode({ match: 0, hold: 1, reject: 2 }[mode]) as number),
    fillOrder: (id, qty, price) => check(`SimFillOrder(${id})`, fillOrder(id, qty, price) as number),
    resetOrders: () => check('SimResetOrders', resetOrders() as number),
    setRoutingState: (state) => {
      // koffi would pass NaN or 5.5 as some int32: refuse rather than report a state nobody asked for.
      if (!Number.isInteger(state)) throw new RangeError(`setRoutingState: ${state} is not an integer`);
      check(`SimSetRoutingState(${state})`, routingState(state) as number);
    },
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
    externalTrade: (account, ticker, exchange, side, qty, price) => {
      const id = BigInt(
        externalTrade(accountRecord(account), ticker, exchange, OrderSide[side], qty, price) as
          | number
          | bigint,
      );
      // The local id, or the negative code as SendOrder returns it.
      if (id <= 0n)
        throw new ProfitDllError(
          `SimExternalTrade(${ticker})`,
          id === 0n ? NL.INTERNAL_ERROR : Number(id) | 0,
        );
      return id;
    },
  };
}
