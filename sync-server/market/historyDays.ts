import type { RawEvent } from '../../native/records.ts';
import type { Ticker } from '../config.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Instrument } from '../shared/instruments.ts';
import { TradeCapture } from './capture.ts';
import { type DeadLetter, type HistoryIntake, type MarketConnector, MarketFeed } from './feed.ts';
import {
  type ChunkDone,
  type ChunkFailure,
  DEFAULT_FILL,
  dayChunks,
  HistoryFill,
  type HistoryFillOptions,
} from './historyFill.ts';

// Past days of one ticker's history into the store (`npm run backfill`, scripts/backfill.ts): one
// GetHistoryTrades a B3 day (within the DLL's limits on both exchanges), each day stored as its
// answer ends, without a trade the day already holds, and recorded once whole, so a rerun skips
// it. Weekends are not asked (B3 does not trade them); a holiday answers no trades.

/** Saturday or Sunday (day 0, 1 January 1970, was a Thursday). */
export const isWeekend = (day: number) => {
  const weekday = (((day + 4) % 7) + 7) % 7;
  return weekday === 0 || weekday === 6;
};

export interface DayReport {
  readonly day: number;
  /** The DLL's trades of the day, valid, each once. */
  readonly trades: number;
  /** Of them, those the day did not hold yet. */
  readonly added: number;
  /** From the day's ask to its end. */
  readonly ms: number;
  readonly failure?: ChunkFailure;
}

export interface DaysStore {
  storeHistoryDay(ticker: string, day: number, trades: readonly DayTrade[], whole: boolean): Promise<number>;
  historyDays(ticker: string): Promise<Set<number>>;
}
type DayTrade = ChunkDone['trades'][number];

export interface FillDaysOptions {
  readonly instrument: Instrument;
  readonly firstDay: number;
  readonly lastDay: number;
  /** Ask days already recorded as filled too (their trades still are not stored twice). */
  readonly again?: boolean;
  readonly store: DaysStore;
  readonly deadLetter: (letter: DeadLetter) => void;
  /** Before the first ask: the days to ask, and those skipped (filled before, or weekends). */
  readonly planned?: (days: readonly number[], skipped: { filled: number; weekend: number }) => void;
  readonly dayDone?: (report: DayReport) => void;
  readonly fill?: Partial<HistoryFillOptions>;
}

export interface FillDaysResult {
  readonly days: readonly DayReport[];
  readonly skipped: { readonly filled: number; readonly weekend: number };
}

/**
 * The feed's HistoryIntake for the CLI: once the feed subscribes the ticker, its days are asked
 * one after another; `done` settles when every day is stored (or failed). Live trades are not
 * held (the feed hands them to sinks that drop them).
 */
export class DaysFill implements HistoryIntake {
  private fill: HistoryFill | undefined;
  private readonly capture: TradeCapture;
  private readonly reports: DayReport[] = [];
  private stores: Promise<void> = Promise.resolve();
  private askedAt = Date.now();
  private resolve: (r: FillDaysResult) => void = () => {};
  private reject: (err: Error) => void = () => {};
  readonly done: Promise<FillDaysResult>;

  get instrument(): Instrument {
    return this.opts.instrument;
  }

  constructor(
    private readonly connector: Pick<MarketConnector, 'historyTrades'>,
    private readonly opts: FillDaysOptions,
  ) {
    const { ticker, exchange } = opts.instrument;
    this.capture = new TradeCapture(new Set([`${ticker}:${exchange}`]));
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  subscribed(t: Ticker): void {
    if (t.ticker !== this.opts.instrument.ticker || this.fill) return;
    this.start().catch((err: Error) => this.reject(err));
  }

  holds(): boolean {
    return false;
  }

  hold(): void {}

  historyTrade(ev: Extract<RawEvent, { kind: 'trade' }>): void {
    if (ev.ticker === this.opts.instrument.ticker) this.fill?.trade(ev);
  }

  progress(ev: Extract<RawEvent, { kind: 'progress' }>): void {
    if (ev.ticker === this.opts.instrument.ticker) this.fill?.progress(ev.progress, ev);
  }

  stop(): void {
    this.fill?.abort('stopped');
  }

  private async start() {
    const { instrument, firstDay, lastDay, store } = this.opts;
    const filled = this.opts.again ? new Set<number>() : await store.historyDays(instrument.ticker);
    const days: number[] = [];
    const skipped = { filled: 0, weekend: 0 };
    for (let d = firstDay; d <= lastDay; d++) {
      if (isWeekend(d)) skipped.weekend++;
      else if (filled.has(d)) skipped.filled++;
      else days.push(d);
    }
    this.opts.planned?.(days, skipped);
    const chunks = days.flatMap((d) => dayChunks(d, d));
    const fill = new HistoryFill(
      instrument,
      chunks,
      {
        ask: (from, to) => {
          this.askedAt = Date.now();
          this.connector.historyTrades(instrument.ticker, instrument.exchange, from, to);
        },
        check: (raw, window) => this.capture.check(raw, window),
        deadLetter: this.opts.deadLetter,
        chunkDone: (c) => this.stored(days[c.index] as number, c),
      },
      { ...DEFAULT_FILL, ...this.opts.fill },
    );
    this.fill = fill;
    fill.start();
    await fill.done;
    await this.stores;
    this.resolve({ days: this.reports, skipped });
  }

  /** Days are stored in order, one after another, while the next is being asked. */
  private stored(day: number, c: ChunkDone) {
    const ms = Date.now() - this.askedAt;
    const trades = [...c.trades];
    this.stores = this.stores.then(async () => {
      const added = await this.opts.store.storeHistoryDay(
        this.opts.instrument.ticker,
        day,
        trades,
        !c.failure,
      );
      const report: DayReport = {
        day,
        trades: trades.length,
        added,
        ms,
        ...(c.failure ? { failure: c.failure } : {}),
      };
      this.reports.push(report);
      this.opts.dayDone?.(report);
    });
    this.stores.catch((err: Error) => {
      this.fill?.abort(`the store failed: ${err.message}`);
      this.reject(err);
    });
  }
}

/**
 * A feed of the one ticker for the CLI, its history into `days`: it logs in (market data only)
 * and subscribes, which starts the days; live events are dropped.
 */
export function historyFeed(
  connector: MarketConnector,
  login: { readonly key: string; readonly user: string; readonly password: string },
  days: DaysFill,
  log: Logger,
  metrics: Metrics,
): MarketFeed {
  const { ticker, exchange } = days.instrument;
  const ignore = () => {};
  const feed = new MarketFeed(
    connector,
    { key: login.key, user: login.user, password: login.password, tickers: [{ ticker, exchange }] },
    {
      trades: ignore,
      day: ignore,
      bookEvents: () => true,
      previousClose: ignore,
      deadLetter: ignore,
      status: ignore,
    },
    log,
    metrics,
  );
  feed.fillHistoryWith(days);
  return feed;
}
