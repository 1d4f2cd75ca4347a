import { type Instrument, instrumentFor, onTickGrid, toTicks } from '../shared/instruments.ts';
import { B3_UTC_OFFSET_MS, type DayStats, type Trade } from '../shared/market.ts';

// Capture: every market callback is validated; trades and daily figures are normalised into
// typed events (trades sequenced per ticker); anything invalid comes back with a named reason
// for the dead-letter queue.

/** The raw fields of a ProfitDLL trade callback, as the capture shim copied them. */
export interface RawTrade {
  readonly ticker: string;
  readonly exchange: string;
  readonly date: string;
  readonly tradeNumber: number;
  readonly price: number;
  readonly qty: number;
  readonly buyAgent: number;
  readonly sellAgent: number;
  readonly tradeType: number;
  readonly isEdit: boolean;
  readonly truncated?: boolean;
  /** CLOCK_REALTIME at capture, ns since the epoch. */
  readonly capturedAtNs: number | bigint;
}

export const RejectReason = {
  truncated: 'truncated_field',
  unknownTicker: 'unknown_ticker',
  badDate: 'bad_date',
  staleOrFuture: 'time_out_of_range',
  badPrice: 'bad_price',
  offGrid: 'price_off_tick_grid',
  badQty: 'bad_quantity',
  badTradeNumber: 'bad_trade_number',
  badSide: 'bad_side',
  inconsistentDay: 'inconsistent_day',
  /** A GetHistoryTrades answer nothing asked for, or a progress that is not 0..100. */
  unrequested: 'unrequested_history',
  badProgress: 'bad_progress',
} as const;
export type RejectReason = (typeof RejectReason)[keyof typeof RejectReason];

export type Rejected = { readonly ok: false; readonly reason: RejectReason; readonly detail: string };
export type CaptureResult =
  | { readonly ok: true; readonly trade: Trade; readonly instrument: Instrument }
  | Rejected;

/** The instants a history answer's trades must lie in (ms since the epoch, both included). */
export interface TimeWindow {
  readonly from: number;
  readonly to: number;
}

/** The raw fields of a ProfitDLL daily callback that Tape reads. */
export interface RawDaily {
  readonly ticker: string;
  readonly exchange: string;
  readonly date: string;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly maxLimit: number;
  readonly minLimit: number;
  readonly qty: number;
  readonly trades: number;
  readonly truncated?: boolean;
}

/** The fields of a tiny-book or offer-book callback that can be checked on their own. */
export interface RawBookSide {
  readonly ticker: string;
  readonly exchange: string;
  readonly price: number;
  readonly qty: number;
  readonly side: number;
  readonly truncated?: boolean;
}

const DATE = /^(\d{2})\/(\d{2})\/(\d{4}) (\d{2}):(\d{2}):(\d{2})\.(\d{3})$/;
const MAX_FUTURE_MS = 5 * 60_000;
const MAX_AGE_MS = 7 * 86_400_000;

// Trades of one callback burst mostly share their millisecond: the last answer is kept.
let lastText = '';
let lastParsed = Number.NaN;

/** Parses `DD/MM/YYYY HH:MM:SS.ZZZ` (B3 local time) strictly; NaN when it is not a real instant. */
export function parseProfitDate(s: string): number {
  if (s !== lastText) {
    lastParsed = parseDate(s);
    lastText = s;
  }
  return lastParsed;
}

function parseDate(s: string): number {
  const m = DATE.exec(s);
  if (!m) return Number.NaN;
  const [d, mo, y, h, mi, se, ms] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const utc = Date.UTC(y, mo - 1, d, h, mi, se, ms);
  const back = new Date(utc);
  // Date.UTC rolls 31/02 over into March: reject instead of guessing.
  if (back.getUTCDate() !== d || back.getUTCMonth() !== mo - 1 || h > 23 || mi > 59 || se > 59)
    return Number.NaN;
  return utc - B3_UTC_OFFSET_MS;
}

export class TradeCapture {
  private readonly seqs = new Map<string, number>();
  private readonly instruments = new Map<string, Instrument | undefined>();

  constructor(
    private readonly allowed: ReadonlySet<string>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Continues each ticker's sequence from what was already stored (after a restart). */
  resumeFrom(lastSeqs: ReadonlyMap<string, number>) {
    for (const [ticker, seq] of lastSeqs) this.seqs.set(ticker, seq);
  }

  lastSeq(ticker: string): number {
    return this.seqs.get(ticker) ?? 0;
  }

  /** Validates a live trade and gives it the ticker's next seq. */
  capture(raw: RawTrade): CaptureResult {
    return this.validate(raw, undefined, true);
  }

  /**
   * Validates a trade without numbering it (seq 0): a live one held while its ticker's history
   * is filled, or a history one, whose time must lie in `window` (the range asked) instead of
   * near the clock.
   */
  check(raw: RawTrade, window?: TimeWindow): CaptureResult {
    return this.validate(raw, window, false);
  }

  private validate(raw: RawTrade, window: TimeWindow | undefined, numbered: boolean): CaptureResult {
    const checked = this.checkAsset(raw);
    if (!checked.ok) return checked;
    const { instrument } = checked;
    const time = window ? this.checkWindow(raw.date, window) : this.checkTime(raw.date);
    if (typeof time !== 'number') return time;
    const badPrice = checkPrice(raw.price, instrument);
    if (badPrice) return badPrice;
    if (!Number.isSafeInteger(raw.qty) || raw.qty <= 0)
      return reject(RejectReason.badQty, `quantity ${raw.qty}`);
    if (!Number.isInteger(raw.tradeNumber) || raw.tradeNumber < 0) {
      return reject(RejectReason.badTradeNumber, `trade number ${raw.tradeNumber}`);
    }
    let seq = 0;
    if (numbered) {
      seq = (this.seqs.get(raw.ticker) ?? 0) + 1;
      this.seqs.set(raw.ticker, seq);
    }
    return {
      ok: true,
      instrument,
      trade: {
        ticker: raw.ticker,
        seq,
        time,
        price: snapToGrid(raw.price, instrument),
        qty: raw.qty,
        tradeNumber: raw.tradeNumber,
        buyAgent: raw.buyAgent,
        sellAgent: raw.sellAgent,
        tradeType: raw.tradeType,
        flags: raw.isEdit ? 1 : 0,
        capturedAt: Number(raw.capturedAtNs) / 1e6,
      },
    };
  }

  /** Checked trades of one ticker, in order, numbered with its next seqs. */
  number(trades: readonly Trade[]): Trade[] {
    if (trades.length === 0) return [];
    const ticker = (trades[0] as Trade).ticker;
    let seq = this.seqs.get(ticker) ?? 0;
    const numbered = trades.map((t) => ({ ...t, seq: ++seq }));
    this.seqs.set(ticker, seq);
    return numbered;
  }

  /**
   * A daily callback as the day's figures. All prices 0 is a day without a trade yet: valid,
   * with nothing to apply (`day` undefined).
   */
  captureDay(raw: RawDaily): { ok: true; instrument: Instrument; day: DayStats | undefined } | Rejected {
    const checked = this.checkAsset(raw);
    if (!checked.ok) return checked;
    const { instrument } = checked;
    const time = this.checkTime(raw.date);
    if (typeof time !== 'number') return time;
    const prices = [raw.open, raw.high, raw.low, raw.close];
    if (prices.every((p) => p === 0)) return { ok: true, instrument, day: undefined };
    for (const p of prices) {
      const bad = checkPrice(p, instrument);
      if (bad) return bad;
    }
    if (raw.low > Math.min(raw.open, raw.close) || raw.high < Math.max(raw.open, raw.close))
      return reject(
        RejectReason.inconsistentDay,
        `open ${raw.open} high ${raw.high} low ${raw.low} close ${raw.close}: the range does not hold open and close`,
      );
    const limits = [raw.minLimit, raw.maxLimit];
    if (limits.some((l) => !Number.isFinite(l) || l < 0) || (raw.minLimit > 0 && raw.minLimit > raw.maxLimit))
      return reject(RejectReason.badPrice, `price limits ${raw.minLimit}–${raw.maxLimit}`);
    for (const [name, n] of [
      ['quantity', raw.qty],
      ['trade count', raw.trades],
    ] as const)
      if (!Number.isSafeInteger(n) || n < 0) return reject(RejectReason.badQty, `${name} ${n}`);
    return {
      ok: true,
      instrument,
      day: {
        time,
        open: snapToGrid(raw.open, instrument),
        high: snapToGrid(raw.high, instrument),
        low: snapToGrid(raw.low, instrument),
        qty: raw.qty,
        trades: raw.trades,
        minLimit: raw.minLimit,
        maxLimit: raw.maxLimit,
      },
    };
  }

  /**
   * Checks a tiny-book or offer-book callback (Tape draws its book from the price book, so these
   * are only counted): a configured ticker, a side of 0 (buy) or 1 (sell), a price of 0 (an
   * empty side) or on the tick grid, a whole non-negative quantity.
   */
  checkBookSide(raw: RawBookSide): Rejected | undefined {
    const checked = this.checkAsset(raw);
    if (!checked.ok) return checked;
    if (raw.side !== 0 && raw.side !== 1) return reject(RejectReason.badSide, `side ${raw.side}`);
    if (raw.price !== 0) {
      const bad = checkPrice(raw.price, checked.instrument);
      if (bad) return bad;
    }
    if (!Number.isSafeInteger(raw.qty) || raw.qty < 0)
      return reject(RejectReason.badQty, `quantity ${raw.qty}`);
    return undefined;
  }

  /** A callback of a configured ticker, its strings whole (every market callback passes here). */
  checkAsset(raw: {
    ticker: string;
    exchange: string;
    truncated?: boolean;
  }): { ok: true; instrument: Instrument } | Rejected {
    if (raw.truncated)
      return reject(RejectReason.truncated, 'a string field was longer than the capture record');
    const instrument = this.instrument(raw.ticker, raw.exchange);
    if (!instrument)
      return reject(
        RejectReason.unknownTicker,
        `${JSON.stringify(raw.ticker)} on ${JSON.stringify(raw.exchange)}`,
      );
    return { ok: true, instrument };
  }

  /** An exchange time within the accepted window, or why not. */
  private checkTime(date: string): number | Rejected {
    const time = parseProfitDate(date);
    if (Number.isNaN(time))
      return reject(RejectReason.badDate, `expected DD/MM/YYYY HH:MM:SS.ZZZ, got ${JSON.stringify(date)}`);
    const now = this.now();
    if (time > now + MAX_FUTURE_MS || time < now - MAX_AGE_MS)
      return reject(RejectReason.staleOrFuture, `${date} is too far from the server clock`);
    return time;
  }

  /** A history trade's time: within the range it was asked for. */
  private checkWindow(date: string, window: TimeWindow): number | Rejected {
    const time = parseProfitDate(date);
    if (Number.isNaN(time))
      return reject(RejectReason.badDate, `expected DD/MM/YYYY HH:MM:SS.ZZZ, got ${JSON.stringify(date)}`);
    if (time < window.from || time > window.to)
      return reject(
        RejectReason.staleOrFuture,
        `${date} is outside the range asked (${new Date(window.from).toISOString()} to ${new Date(window.to).toISOString()})`,
      );
    return time;
  }

  /** The rules for a configured ticker, undefined for any other. */
  instrument(ticker: string, exchange: string): Instrument | undefined {
    const key = `${ticker}:${exchange}`;
    if (!this.instruments.has(key)) {
      this.instruments.set(key, this.allowed.has(key) ? instrumentFor(ticker, exchange) : undefined);
    }
    return this.instruments.get(key);
  }
}

const reject = (reason: RejectReason, detail: string): Rejected => ({ ok: false, reason, detail });

/** Float noise from the DLL (38.490000001) never reaches clients or the database. */
const snapToGrid = (price: number, instrument: Instrument) =>
  Math.round(price * 10 ** instrument.priceDecimals) / 10 ** instrument.priceDecimals;

/** At least one tick (a positive price that rounds to zero ticks is no price), on the grid. */
function checkPrice(price: number, instrument: Instrument): Rejected | undefined {
  if (!Number.isFinite(price) || toTicks(price, instrument.tickSize) < 1)
    return reject(RejectReason.badPrice, `price ${price}`);
  if (!onTickGrid(price, instrument.tickSize))
    return reject(RejectReason.offGrid, `price ${price} is not a multiple of ${instrument.tickSize}`);
  return undefined;
}
