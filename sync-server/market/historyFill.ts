import { historyRetryable, ProfitDllError } from '../../native/errors.ts';
import { jsonSafe } from '../deadLetters/queue.ts';
import type { Instrument } from '../shared/instruments.ts';
import { B3_UTC_OFFSET_MS, b3Day, type Trade } from '../shared/market.ts';
import { type CaptureResult, type RawTrade, RejectReason, type TimeWindow } from './capture.ts';
import type { DeadLetter } from './feed.ts';

// One ticker's history over a list of ranges the DLL takes in one request each (chunks): asked in
// turn, each answer's trades validated against its range and kept once each, its end the
// progress of 100 (THistoryTradeCallback flags no last packet). A chunk the DLL refuses, or stops
// answering, is asked again (bounded, backing off), then reported failed: never skipped
// silently. The server's backfill (backfill.ts) and the CLI (scripts/backfill.ts) both drive one.
//
// The DLL names no request in its answers, only the ticker. It answers one ticker's requests in
// the order asked (the simulator queues a second ask behind the first; so do users of the real
// DLL report), so what comes belongs to the oldest request not yet ended. A request given up for
// silence is taken as lost; should its answer come after all, its trades are checked against the
// range of the request they are then taken for, and lettered when outside it.

const DAY_MS = 86_400_000;
const SECOND_MS = 1_000;

/** A range asked in one request, ms since the epoch; the DLL includes `to`'s whole second. */
export interface HistoryChunk {
  readonly from: number;
  readonly to: number;
}

/** The longest range one GetHistoryTrades takes (API.md: about a day on BMF, several on Bovespa). */
export const maxChunkMs = (exchange: string) => (exchange === 'F' ? DAY_MS : 5 * DAY_MS);

/** [from, to] as consecutive chunks of whole seconds, none longer than `maxMs`. */
export function historyChunks(from: number, to: number, maxMs: number): HistoryChunk[] {
  const chunks: HistoryChunk[] = [];
  let start = Math.floor(from / SECOND_MS) * SECOND_MS;
  const end = Math.floor(to / SECOND_MS) * SECOND_MS;
  while (start <= end) {
    const last = Math.min(end, start + maxMs);
    chunks.push({ from: start, to: last });
    start = last + SECOND_MS;
  }
  return chunks;
}

/** The B3 session days first..last (day numbers, as b3Day gives them), one chunk each. */
export function dayChunks(firstDay: number, lastDay: number): HistoryChunk[] {
  const chunks: HistoryChunk[] = [];
  for (let d = firstDay; d <= lastDay; d++) {
    const start = d * DAY_MS - B3_UTC_OFFSET_MS;
    chunks.push({ from: start, to: start + DAY_MS - SECOND_MS });
  }
  return chunks;
}

/** The instants a chunk's answer may hold: its first second to the end of its last one. */
export const chunkWindow = (c: HistoryChunk): TimeWindow => ({
  from: Math.floor(c.from / SECOND_MS) * SECOND_MS,
  to: Math.floor(c.to / SECOND_MS) * SECOND_MS + SECOND_MS - 1,
});

/** What identifies a trade: its B3 session day and the exchange's trade number of that day. */
export const tradeKey = (time: number, tradeNumber: number) => b3Day(time) * 2 ** 32 + tradeNumber;

export interface ChunkFailure {
  readonly chunk: HistoryChunk;
  readonly attempts: number;
  readonly reason: string;
  /** The DLL's code, when it refused the request (NL_WAITING_SERVER). */
  readonly code?: string;
}

export interface ChunkDone {
  readonly index: number;
  readonly chunk: HistoryChunk;
  /** Its valid trades not in an earlier chunk, in the order they came (unnumbered). */
  readonly trades: readonly Trade[];
  readonly failure?: ChunkFailure;
}

export interface FillProgress {
  /** 0..100 over all chunks; 100 once every chunk has ended. */
  readonly percent: number;
  /** Valid trades received so far, each once. */
  readonly trades: number;
}

export interface FillResult {
  /** Every valid trade received, each once, by chunk in the order they came (unnumbered). */
  readonly trades: Trade[];
  readonly failures: ChunkFailure[];
}

export interface HistoryFillDeps {
  /** GetHistoryTrades for the fill's ticker; throws the DLL's refusal (ProfitDllError). */
  ask(from: Date, to: Date): void;
  /** Validation of a history trade against the range it was asked in (TradeCapture.check). */
  check(raw: RawTrade, window: TimeWindow): CaptureResult;
  deadLetter(letter: DeadLetter): void;
  /** Counts what happened to answers and requests (metrics). */
  count?(outcome: string, n?: number): void;
  /** A chunk ended: answered, or failed after its attempts. */
  chunkDone?(done: ChunkDone): void;
  /** The DLL reported progress, or a chunk ended. */
  progress?(p: FillProgress): void;
}

export interface HistoryFillOptions {
  /** A request with no answer (no trade, no progress) for this long is taken as lost. */
  readonly stallMs: number;
  /** Requests per chunk at most, the first included. */
  readonly attempts: number;
  /** Pause before the second request, doubled for each one after, up to maxBackoffMs. */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
}

export const DEFAULT_FILL: HistoryFillOptions = {
  stallMs: 30_000,
  attempts: 4,
  backoffMs: 1_000,
  maxBackoffMs: 15_000,
};

type ChunkState = 'waiting' | 'asked' | 'done' | 'failed';

/** A ticker's history over its chunks, driven by the DLL's answers (trade, progress) as they come. */
export class HistoryFill {
  private readonly state: ChunkState[];
  private readonly trades: Trade[][];
  private readonly failures = new Map<number, ChunkFailure>();
  private readonly keys = new Set<number>();
  /** The chunk of each request not yet ended, oldest first: the DLL answers in this order. */
  private readonly asks: number[] = [];
  private current = 0;
  private attempt = 0;
  private headProgress = 0;
  private received = 0;
  private lastEventAt = 0;
  private stallTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private ended = false;
  private resolve: (r: FillResult) => void = () => {};
  /** Settles once every chunk has ended, answered or failed. */
  readonly done: Promise<FillResult>;

  constructor(
    readonly instrument: Instrument,
    readonly chunks: readonly HistoryChunk[],
    private readonly deps: HistoryFillDeps,
    private readonly opts: HistoryFillOptions = DEFAULT_FILL,
  ) {
    this.state = chunks.map(() => 'waiting');
    this.trades = chunks.map(() => []);
    this.done = new Promise((r) => {
      this.resolve = r;
    });
  }

  /** True while the DLL still owes an answer to a request (one given up on is not counted). */
  get outstanding(): boolean {
    return this.asks.length > 0;
  }

  /** Whether every chunk has ended. */
  get finished(): boolean {
    return this.ended;
  }

  start(): void {
    if (this.chunks.length === 0) this.end();
    else this.askCurrent();
  }

  /** A THistoryTradeCallback record of this ticker. */
  trade(raw: RawTrade): void {
    this.lastEventAt = Date.now();
    const index = this.asks[0];
    if (index === undefined) {
      this.letter(raw, RejectReason.unrequested, 'a history trade while no request of the ticker waits');
      return;
    }
    const r = this.deps.check(raw, chunkWindow(this.chunks[index] as HistoryChunk));
    if (!r.ok) {
      this.letter(raw, r.reason, r.detail);
      return;
    }
    const key = tradeKey(r.trade.time, r.trade.tradeNumber);
    if (this.keys.has(key)) {
      this.deps.count?.('duplicate');
      return;
    }
    this.keys.add(key);
    (this.trades[index] as Trade[]).push(r.trade);
    this.received++;
  }

  /** A TProgressCallback of this ticker: 100 ends the oldest request not yet ended. */
  progress(progress: number, raw: unknown): void {
    this.lastEventAt = Date.now();
    if (!Number.isInteger(progress) || progress < 0 || progress > 100) {
      this.letter(raw, RejectReason.badProgress, `progress ${progress} is not a whole number from 0 to 100`);
      return;
    }
    const index = this.asks[0];
    if (index === undefined) {
      this.letter(raw, RejectReason.unrequested, `progress ${progress} while no request of the ticker waits`);
      return;
    }
    if (progress < 100) {
      this.headProgress = progress;
      this.report();
      return;
    }
    this.asks.shift();
    this.headProgress = 0;
    // A chunk asked again after a silence ends with the first answer that does.
    if (this.state[index] === 'asked') this.endChunk(index, undefined);
    if (this.asks.length === 0) this.clearStall();
  }

  /** Ends the fill now: every chunk not ended fails with `reason`. */
  abort(reason: string): void {
    if (this.ended) return;
    clearTimeout(this.retryTimer);
    for (let i = 0; i < this.chunks.length; i++) {
      if (this.state[i] === 'done' || this.state[i] === 'failed') continue;
      this.fail(i, {
        chunk: this.chunks[i] as HistoryChunk,
        attempts: i === this.current ? this.attempt : 0,
        reason,
      });
    }
    this.current = this.chunks.length;
    this.end();
  }

  /** The progress over all chunks, 0..100. */
  get percent(): number {
    if (this.ended) return 100;
    const ended = this.state.filter((s) => s === 'done' || s === 'failed').length;
    const part = this.state[this.current] === 'asked' ? this.headProgress / 100 : 0;
    return Math.min(99, Math.floor(((ended + part) / this.chunks.length) * 100));
  }

  private letter(raw: unknown, why: string, detail: string) {
    this.deps.count?.('dead_lettered');
    this.deps.deadLetter({ source: 'profitdll.historyTrade', reason: why, detail, payload: jsonSafe(raw) });
  }

  private report() {
    this.deps.progress?.({ percent: this.percent, trades: this.received });
  }

  private askCurrent() {
    const index = this.current;
    const chunk = this.chunks[index] as HistoryChunk;
    this.attempt++;
    try {
      this.deps.ask(new Date(chunk.from), new Date(chunk.to));
    } catch (err) {
      const code = err instanceof ProfitDllError ? err.code : undefined;
      const retryable = code !== undefined && historyRetryable(code);
      this.attemptFailed(
        index,
        (err as Error).message,
        retryable,
        err instanceof ProfitDllError ? err.codeName : undefined,
      );
      return;
    }
    this.state[index] = 'asked';
    this.asks.push(index);
    this.lastEventAt = Date.now();
    this.armStall();
  }

  private attemptFailed(index: number, reason: string, retryable: boolean, code?: string) {
    if (retryable && this.attempt < this.opts.attempts) {
      this.deps.count?.('retried');
      const wait = Math.min(this.opts.maxBackoffMs, this.opts.backoffMs * 2 ** (this.attempt - 1));
      this.retryTimer = setTimeout(() => this.askCurrent(), wait);
      return;
    }
    const failure: ChunkFailure = {
      chunk: this.chunks[index] as HistoryChunk,
      attempts: this.attempt,
      reason,
      ...(code ? { code } : {}),
    };
    this.endChunk(index, failure);
  }

  private endChunk(index: number, failure: ChunkFailure | undefined) {
    if (failure) this.fail(index, failure);
    else {
      this.state[index] = 'done';
      this.deps.count?.('chunk_done');
      this.deps.chunkDone?.({
        index,
        chunk: this.chunks[index] as HistoryChunk,
        trades: this.trades[index] ?? [],
      });
    }
    if (index !== this.current) return;
    this.current++;
    this.attempt = 0;
    if (this.current < this.chunks.length) {
      this.report();
      this.askCurrent();
    } else this.end();
  }

  private fail(index: number, failure: ChunkFailure) {
    this.state[index] = 'failed';
    this.failures.set(index, failure);
    this.deps.count?.('chunk_failed');
    this.deps.chunkDone?.({
      index,
      chunk: this.chunks[index] as HistoryChunk,
      trades: this.trades[index] ?? [],
      failure,
    });
  }

  private end() {
    if (this.ended) return;
    this.ended = true;
    this.report();
    if (!this.outstanding) this.clearStall();
    this.resolve({ trades: this.trades.flat(), failures: [...this.failures.values()] });
  }

  /** One timer per fill, not one per event: it looks at the last event's time when it fires. */
  private armStall() {
    if (this.stallTimer) return;
    const check = () => {
      this.stallTimer = undefined;
      if (this.asks.length === 0) return;
      const quiet = Date.now() - this.lastEventAt;
      if (quiet < this.opts.stallMs) {
        this.stallTimer = setTimeout(check, this.opts.stallMs - quiet);
        return;
      }
      // The oldest request is taken as lost; the next one (if any) gets a full wait of its own.
      const index = this.asks.shift() as number;
      this.headProgress = 0;
      this.lastEventAt = Date.now();
      this.deps.count?.('stalled');
      if (this.state[index] === 'asked' && index === this.current && !this.asks.includes(index))
        this.attemptFailed(index, `no answer for ${this.opts.stallMs} ms`, true);
      if (this.asks.length > 0) this.armStall();
    };
    this.stallTimer = setTimeout(check, this.opts.stallMs);
  }

  private clearStall() {
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }
}
