import type { RawEvent } from '../../native/records.ts';
import type { Ticker } from '../config.ts';
import { jsonSafe } from '../deadLetters/queue.ts';
import type { Logger } from '../log.ts';
import type { Instrument } from '../shared/instruments.ts';
import { B3_UTC_OFFSET_MS, type BackfillStatus, b3Day, type Trade } from '../shared/market.ts';
import type { TradeCapture } from './capture.ts';
import type { DeadLetter, HistoryIntake, MarketConnector } from './feed.ts';
import {
  type ChunkFailure,
  DEFAULT_FILL,
  HistoryFill,
  type HistoryFillOptions,
  historyChunks,
  maxChunkMs,
  tradeKey,
} from './historyFill.ts';

// The session so far, before a ticker goes live: when the feed subscribes a ticker, its trades
// of today are asked from the session's open (or from the last stored trade, after a restart) to
// the DLL's now, in chunks the DLL takes, and stored without duplicates; its live trades are held
// meanwhile, then numbered after the history, any the history holds dropped.
//
// Seqs: the history the store did not hold is numbered in the ticker's one sequence, right after
// the stored head, in trade-number order; then the held live trades; then live trades as they
// come. So a ticker's seq runs contiguous and each trade once, whoever asks: a client live
// through the fill receives the history as ordinary trade frames, a replay or the database
// gives the same numbers. The history is stored before it is fanned out, so a client catching
// up from the database finds it there.

const SECOND_MS = 1_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Frames of at most this many trades, as a replay sends them. */
const SLICE = 2_000;

/**
 * When a session's trades begin, Brasília time: B3's futures at 09:00, its stocks at 10:00
 * (after the opening auction). Asked from here on a day with nothing stored yet.
 */
export function sessionOpen(day: number, exchange: string): number {
  return day * DAY_MS - B3_UTC_OFFSET_MS + (exchange === 'F' ? 9 : 10) * HOUR_MS;
}

/**
 * History trades the store does not hold yet, each once, in the exchange's order: by time, then
 * trade number. `stored` holds tradeKey()s.
 */
export function newHistory(history: readonly Trade[], stored: ReadonlySet<number>): Trade[] {
  return newLive(history, stored).sort((a, b) => a.time - b.time || a.tradeNumber - b.tradeNumber);
}

/** Trades in the order they came, each once, without any already `known` (tradeKey()s). */
export function newLive(held: readonly Trade[], known: ReadonlySet<number>): Trade[] {
  const seen = new Set<number>();
  return held.filter((t) => {
    const key = tradeKey(t.time, t.tradeNumber);
    if (known.has(key) || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The run of seqs a fill adds after `head`: the history not stored, then the live trades held
 * meanwhile that neither the history nor the store holds. What the backfill numbers, in one.
 */
export function mergeFill(
  head: number,
  history: readonly Trade[],
  held: readonly Trade[],
  stored: ReadonlySet<number>,
): Trade[] {
  const fresh = newHistory(history, stored);
  const known = new Set(stored);
  for (const t of history) known.add(tradeKey(t.time, t.tradeNumber));
  return [...fresh, ...newLive(held, known)].map((t, i) => ({ ...t, seq: head + 1 + i }));
}

/** A stored trade, as the dedup needs it. */
export interface StoredTrade {
  readonly time: number;
  readonly tradeNumber: number;
}

export interface BackfillOptions extends HistoryFillOptions {
  /** Live trades held per ticker at most; past this its fill ends, failed, and it goes live. */
  readonly maxHeld: number;
  /** How long the fill's trades may take to be stored before they are fanned out anyway. */
  readonly storeTimeoutMs: number;
  /** A ticker's `filling` status goes out at most this often. */
  readonly statusMs: number;
  /**
   * Tickers whose history is asked at once. The DLL answers as fast as it reads, into the capture
   * ring the live trades share: several answers at once can fill the ring (ring_overflow) faster
   * than the feed drains it, and what overflows is lost to every ticker. One at a time, an answer
   * of 50,000 trades fits the ring even before a drain.
   */
  readonly concurrent: number;
}

export const DEFAULT_BACKFILL: BackfillOptions = {
  ...DEFAULT_FILL,
  maxHeld: 200_000,
  storeTimeoutMs: 30_000,
  statusMs: 200,
  concurrent: 1,
};

export interface BackfillSinks {
  /** Stored trades of the fill, into the ring, the quote and out to clients (MarketService.backfilled). */
  backfilled(instrument: Instrument, trades: Trade[]): void;
  /** Live trades, numbered: the usual path (MarketService.trades). */
  trades(instrument: Instrument, trades: Trade[]): void;
  backfill(status: BackfillStatus): void;
  deadLetter(letter: DeadLetter): void;
}

export interface BackfillDeps {
  readonly connector: Pick<MarketConnector, 'historyTrades' | 'clock'>;
  readonly capture: TradeCapture;
  /** Stored trades of a ticker with from ≤ time ≤ to (TickStore.storedTrades). */
  readonly stored: (ticker: string, from: number, to: number) => Promise<readonly StoredTrade[]>;
  /** The time of the ticker's last stored trade (the highest seq), undefined before any. */
  readonly lastTradeTime: (ticker: string) => Promise<number | undefined>;
  /** Hands numbered trades to the writer; `flush` resolves once they are stored. */
  readonly write: (trades: readonly Trade[]) => void;
  readonly flush: (timeoutMs: number) => Promise<void>;
  readonly sinks: BackfillSinks;
  readonly log: Logger;
  /** Metrics: kind is `historyTrade`, `historyChunk` or `trade`. */
  readonly count: (kind: string, outcome: string, n?: number) => void;
  readonly options?: Partial<BackfillOptions>;
}

interface Filling {
  readonly instrument: Instrument;
  readonly held: Trade[];
  fill: HistoryFill | undefined;
  from: number;
  to: number;
  statusAt: number;
  /** The server is stopping: everything of the ticker from now on is dropped, counted. */
  abandoned: boolean;
}

/**
 * The backfill of every ticker the feed subscribes (the feed's HistoryIntake): history in, live
 * trades held, then both numbered and handed on.
 */
export class Backfill implements HistoryIntake {
  private readonly opts: BackfillOptions;
  private readonly filling = new Map<string, Filling>();
  /** Each ticker's last fill, kept for answers that come after it ended (a retry's). */
  private readonly fills = new Map<string, HistoryFill>();
  private readonly statuses = new Map<string, BackfillStatus>();
  /** Fills asking now, and those waiting their turn (opts.concurrent). */
  private asking = 0;
  private readonly turns: (() => void)[] = [];

  constructor(private readonly deps: BackfillDeps) {
    this.opts = { ...DEFAULT_BACKFILL, ...deps.options };
  }

  /** The ticker's last status, for a client that subscribes (undefined before its first fill). */
  status(ticker: string): BackfillStatus | undefined {
    return this.statuses.get(ticker);
  }

  holds(ticker: string): boolean {
    return this.filling.has(ticker);
  }

  hold(trade: Trade): void {
    const f = this.filling.get(trade.ticker);
    if (!f) return;
    if (f.abandoned) {
      this.deps.count('trade', 'discarded');
      return;
    }
    f.held.push(trade);
    this.deps.count('trade', 'held');
    if (f.held.length > this.opts.maxHeld && f.fill && !f.fill.finished)
      f.fill.abort(`over ${this.opts.maxHeld} live trades arrived while the history was asked`);
  }

  historyTrade(ev: Extract<RawEvent, { kind: 'trade' }>): void {
    const fill = this.fills.get(ev.ticker);
    if (!fill) {
      this.unrequested(ev, 'a history trade of a ticker whose history was not asked');
      return;
    }
    if (fill.finished) this.deps.count('historyTrade', 'after_fill');
    fill.trade(ev);
  }

  progress(ev: Extract<RawEvent, { kind: 'progress' }>): void {
    const fill = this.fills.get(ev.ticker);
    if (!fill) {
      this.unrequested(ev, `progress ${ev.progress} of a ticker whose history was not asked`);
      return;
    }
    fill.progress(ev.progress, ev);
  }

  /** The feed subscribed the ticker: its history of today is asked before it goes live. */
  subscribed(t: Ticker): void {
    const instrument = this.deps.capture.instrument(t.ticker, t.exchange);
    if (!instrument || this.filling.has(t.ticker)) return;
    const f: Filling = {
      instrument,
      held: [],
      fill: undefined,
      from: 0,
      to: 0,
      statusAt: 0,
      abandoned: false,
    };
    this.filling.set(t.ticker, f);
    this.run(f).catch((err: Error) => {
      // A bug must not keep the ticker from going live: what was held goes out, the failure is reported.
      this.deps.log.error({ err, ticker: t.ticker }, 'backfill failed');
      if (!f.abandoned)
        this.goLive(f, [], [{ chunk: { from: f.from, to: f.to }, attempts: 0, reason: err.message }]);
    });
  }

  /**
   * Shutdown: fills end, and a ticker still filling drops its live trades from here on (counted,
   * logged). They are not stored, so the next start asks history from the last stored trade,
   * which holds them; storing them would put the last stored trade past the hole before them.
   */
  stop(): void {
    for (const f of this.filling.values()) {
      if (f.abandoned) continue;
      f.abandoned = true;
      f.fill?.abort('the server stopped');
      this.deps.count('trade', 'discarded', f.held.length);
      this.deps.log.warn(
        { ticker: f.instrument.ticker, held: f.held.length },
        'stopped during the backfill: its held live trades are not stored; the next start asks the history that holds them',
      );
    }
  }

  private async run(f: Filling): Promise<void> {
    const { ticker, exchange } = f.instrument;
    const now = this.deps.connector.clock();
    const day = b3Day(now);
    const open = sessionOpen(day, exchange);
    f.from = open;
    f.to = now;
    this.publish(f, 'filling', 0, true);
    const last = await this.read(() => this.deps.lastTradeTime(ticker), 'the last stored trade');
    // After a restart only what is missing since the last stored trade.
    if (last !== undefined && b3Day(last) === day && last > open) f.from = last;
    // The store's trades where the answer can fall (its first second starts before `from`).
    const around = await this.read(
      () => this.deps.stored(ticker, f.from - SECOND_MS, f.to + SECOND_MS),
      'the stored trades',
    );
    const stored = new Set(around.map((t) => tradeKey(t.time, t.tradeNumber)));
    if (f.abandoned) return;
    const fill = new HistoryFill(
      f.instrument,
      f.from <= f.to ? historyChunks(f.from, f.to, maxChunkMs(exchange)) : [],
      {
        ask: (from, to) => this.deps.connector.historyTrades(ticker, exchange, from, to),
        check: (raw, window) => this.deps.capture.check(raw, window),
        deadLetter: (l) => this.deps.sinks.deadLetter(l),
        count: (outcome, n) =>
          this.deps.count(outcome.startsWith('chunk') ? 'historyChunk' : 'historyTrade', outcome, n),
        progress: (p) => this.publish(f, 'filling', p.percent, false, p.trades),
      },
      this.opts,
    );
    f.fill = fill;
    this.fills.set(ticker, fill);
    await this.turn();
    let result: Awaited<typeof fill.done>;
    try {
      // Aborted while it waited (the server stopping, too many held): it ends without asking.
      if (!fill.finished) fill.start();
      result = await fill.done;
    } finally {
      this.endTurn();
    }
    if (f.abandoned) return;
    // Before the last stored trade is not missing: it was stored, or lost before it was.
    const since = result.trades.filter((t) => t.time >= f.from);
    this.deps.count('historyTrade', 'before_last_stored', result.trades.length - since.length);
    const head = this.deps.capture.lastSeq(ticker);
    const fresh = newHistory(since, stored).map((t, i) => ({ ...t, seq: head + 1 + i }));
    this.deps.count('historyTrade', 'stored_already', since.length - fresh.length);
    if (fresh.length > 0) {
      // Stored before it is fanned out: a client that catches up from the database finds it.
      this.deps.write(fresh);
      try {
        await this.deps.flush(this.opts.storeTimeoutMs);
      } catch (err) {
        this.deps.log.warn(
          { ticker, err: (err as Error).message },
          'the backfill is not stored yet: fanned out anyway, the writer goes on storing it',
        );
      }
    }
    if (f.abandoned) return;
    for (const t of result.trades) stored.add(tradeKey(t.time, t.tradeNumber));
    this.goLive(f, fresh, result.failures, stored);
  }

  /** Resolves when this fill may ask the DLL: at most opts.concurrent at once, in turn. */
  private turn(): Promise<void> {
    if (this.asking < this.opts.concurrent) {
      this.asking++;
      return Promise.resolve();
    }
    return new Promise((r) => this.turns.push(r));
  }

  private endTurn(): void {
    const next = this.turns.shift();
    if (next) next();
    else this.asking--;
  }

  /** A read of the store, asked again twice before the fill gives up on it. */
  private async read<T>(query: () => Promise<T>, what: string): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await query();
      } catch (err) {
        if (attempt >= 3) throw new Error(`${what} could not be read: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, this.opts.backoffMs * attempt));
      }
    }
  }

  /** In one step: the fill's trades out, then the held live ones after them, then live. */
  private goLive(f: Filling, fresh: Trade[], failures: readonly ChunkFailure[], known = new Set<number>()) {
    const { instrument } = f;
    const { ticker } = instrument;
    if (fresh.length > 0) {
      this.deps.capture.resumeFrom(new Map([[ticker, (fresh.at(-1) as Trade).seq]]));
      for (let i = 0; i < fresh.length; i += SLICE)
        this.deps.sinks.backfilled(instrument, fresh.slice(i, i + SLICE));
    }
    const held = newLive(f.held, known);
    this.deps.count('trade', 'held_duplicate', f.held.length - held.length);
    const live = this.deps.capture.number(held);
    for (let i = 0; i < live.length; i += SLICE) this.deps.sinks.trades(instrument, live.slice(i, i + SLICE));
    this.filling.delete(ticker);
    for (const failure of failures) this.report(instrument, failure);
    const reason = failures
      .map(
        (x) => `${new Date(x.chunk.from).toISOString()}–${new Date(x.chunk.to).toISOString()}: ${x.reason}`,
      )
      .join('; ');
    this.publish(f, failures.length > 0 ? 'failed' : 'live', 100, true, fresh.length, reason || undefined);
    this.deps.log.info(
      { ticker, added: fresh.length, held: f.held.length, live: live.length, failed: failures.length },
      'backfill done: the ticker is live',
    );
  }

  /** A chunk that failed after its attempts: logged and dead-lettered, with the range it leaves out. */
  private report(instrument: Instrument, failure: ChunkFailure) {
    const { ticker, exchange } = instrument;
    const from = new Date(failure.chunk.from).toISOString();
    const to = new Date(failure.chunk.to).toISOString();
    this.deps.log.error({ ticker, from, to, ...failure }, 'history backfill: a chunk failed');
    this.deps.sinks.deadLetter({
      source: 'profitdll.history',
      reason: 'history_failed',
      detail: `GetHistoryTrades(${ticker}, ${exchange}) ${from} to ${to}: ${failure.reason} (${failure.attempts} attempts); the day has no trades of that range until it is filled (npm run backfill once the day is over)`,
      payload: {
        ticker,
        exchange,
        from,
        to,
        attempts: failure.attempts,
        code: failure.code ?? null,
        reason: failure.reason,
      },
    });
  }

  private publish(
    f: Filling,
    state: BackfillStatus['state'],
    percent: number,
    force: boolean,
    trades?: number,
    reason?: string,
  ) {
    const now = Date.now();
    if (!force && now - f.statusAt < this.opts.statusMs) return;
    f.statusAt = now;
    const before = this.statuses.get(f.instrument.ticker);
    const status: BackfillStatus = {
      ticker: f.instrument.ticker,
      state,
      // 100 is for a ticker that is live: the last chunk's end is followed by storing it.
      percent: state === 'filling' ? Math.min(99, percent) : percent,
      trades: trades ?? before?.trades ?? 0,
      from: f.from,
      to: f.to,
      ...(reason ? { reason } : {}),
    };
    this.statuses.set(status.ticker, status);
    this.deps.sinks.backfill(status);
  }

  private unrequested(ev: RawEvent, detail: string) {
    this.deps.count('historyTrade', 'dead_lettered');
    this.deps.sinks.deadLetter({
      source: 'profitdll.historyTrade',
      reason: 'unrequested_history',
      detail,
      payload: jsonSafe(ev),
    });
  }
}
