import { type Instrument, instrumentFor, onTickGrid, toTicks } from './instruments.ts';
import type { Trade } from './protocol.ts';

// Capture: every trade callback is validated and normalised into a typed, sequenced event;
// anything invalid comes back with a named reason for the dead-letter queue.

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
} as const;
export type RejectReason = (typeof RejectReason)[keyof typeof RejectReason];

export type CaptureResult =
  | { readonly ok: true; readonly trade: Trade; readonly instrument: Instrument }
  | { readonly ok: false; readonly reason: RejectReason; readonly detail: string };

// B3 prints times in Brasília time, which has had no daylight saving since 2019.
const B3_UTC_OFFSET_MS = -3 * 3_600_000;
const DATE = /^(\d{2})\/(\d{2})\/(\d{4}) (\d{2}):(\d{2}):(\d{2})\.(\d{3})$/;
const MAX_FUTURE_MS = 5 * 60_000;
const MAX_AGE_MS = 7 * 86_400_000;

/** Parses `DD/MM/YYYY HH:MM:SS.ZZZ` (B3 local time) strictly; NaN when it is not a real instant. */
export function parseProfitDate(s: string): number {
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

  capture(raw: RawTrade): CaptureResult {
    if (raw.truncated)
      return reject(RejectReason.truncated, 'a string field was longer than the capture record');
    const instrument = this.instrument(raw.ticker, raw.exchange);
    if (!instrument) {
      return reject(
        RejectReason.unknownTicker,
        `${JSON.stringify(raw.ticker)} on ${JSON.stringify(raw.exchange)}`,
      );
    }
    const time = parseProfitDate(raw.date);
    if (Number.isNaN(time))
      return reject(
        RejectReason.badDate,
        `expected DD/MM/YYYY HH:MM:SS.ZZZ, got ${JSON.stringify(raw.date)}`,
      );
    const now = this.now();
    if (time > now + MAX_FUTURE_MS || time < now - MAX_AGE_MS) {
      return reject(RejectReason.staleOrFuture, `${raw.date} is too far from the server clock`);
    }
    // At least one tick: a positive price that rounds to zero ticks is no price.
    if (!Number.isFinite(raw.price) || toTicks(raw.price, instrument.tickSize) < 1) {
      return reject(RejectReason.badPrice, `price ${raw.price}`);
    }
    if (!onTickGrid(raw.price, instrument.tickSize)) {
      return reject(RejectReason.offGrid, `price ${raw.price} is not a multiple of ${instrument.tickSize}`);
    }
    if (!Number.isSafeInteger(raw.qty) || raw.qty <= 0)
      return reject(RejectReason.badQty, `quantity ${raw.qty}`);
    if (!Number.isInteger(raw.tradeNumber) || raw.tradeNumber < 0) {
      return reject(RejectReason.badTradeNumber, `trade number ${raw.tradeNumber}`);
    }
    const seq = (this.seqs.get(raw.ticker) ?? 0) + 1;
    this.seqs.set(raw.ticker, seq);
    const factor = 10 ** instrument.priceDecimals;
    return {
      ok: true,
      instrument,
      trade: {
        ticker: raw.ticker,
        seq,
        time,
        // Snap to the grid so float noise from the DLL never reaches clients or the database.
        price: Math.round(raw.price * factor) / factor,
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

  /** The rules for a configured ticker, undefined for any other. */
  instrument(ticker: string, exchange: string): Instrument | undefined {
    const key = `${ticker}:${exchange}`;
    if (!this.instruments.has(key)) {
      this.instruments.set(key, this.allowed.has(key) ? instrumentFor(ticker, exchange) : undefined);
    }
    return this.instruments.get(key);
  }
}

const reject = (reason: RejectReason, detail: string): CaptureResult => ({ ok: false, reason, detail });
