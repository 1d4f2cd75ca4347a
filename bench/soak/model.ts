// What a soak run is given and what it reports (bench/soak.ts runs it).

export interface SoakOptions {
  /** Seconds of load after setup; the first third is the warm-up. */
  readonly seconds: number;
  /** Seconds between two samples of /metrics (one row of the table). */
  readonly sampleSeconds: number;
  /** Market WebSocket clients on /ws. */
  readonly clients: number;
  /** Trades per second over all tickers (the simulator's rate is per ticker: this / tickers). */
  readonly rate: number;
  /** Tickers each client subscribes to, assigned round-robin over the feed's tickers. */
  readonly tickersPerClient: number;
  /** Every Nth client also runs the full decoder (`decodeFrame`) and cross-checks it. */
  readonly decodeEvery: number;
  readonly ordersPerSecond: number;
  readonly traders: number;
  readonly editors: number;
  readonly rooms: number;
  /** Edits per second per editor (the server allows TAPE_YJS_RATE messages/s per connection). */
  readonly editsPerSecond: number;
  /**
   * Heap growth allowed from the 2nd to the last third of the run, comparing the medians of the
   * heap measured right after a full GC (one per row): max(MB, fraction × the 2nd third's).
   */
  readonly heapToleranceMb: number;
  readonly heapToleranceFraction: number;
  /** More settings for the server process. */
  readonly serverEnv?: Readonly<Record<string, string>>;
  /** Where to write everything the server process printed (its JSON log), at the end. */
  readonly serverLogFile?: string;
  /** Ends the load early; the checks, the report and the clean-up still run. */
  readonly signal?: AbortSignal;
  readonly log?: (line: string) => void;
}

export const SOAK_DEFAULTS: SoakOptions = {
  seconds: 600,
  sampleSeconds: 10,
  clients: 500,
  rate: 20_000,
  tickersPerClient: 1,
  decodeEvery: 10,
  ordersPerSecond: 50,
  traders: 5,
  editors: 100,
  rooms: 10,
  editsPerSecond: 2,
  heapToleranceMb: 8,
  heapToleranceFraction: 0.1,
};

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export interface SoakSample {
  /** Seconds since the load started. */
  readonly t: number;
  readonly rssMb: number;
  /** Median of the window's 1 s probes of the server's used JS heap, and its range. */
  readonly heapMb: number;
  readonly heapMinMb: number;
  readonly heapMaxMb: number;
  /** Used heap right after a full GC forced at the end of the row (the live set). */
  readonly gcHeapMb: number;
  /** The server process's CPU (all its threads), % of one core. */
  readonly serverCpu: number;
  /** The server's event-loop delay: worst p99 and max of the row's 1 s scrapes. */
  readonly serverLagP99Ms: number;
  readonly serverLagMaxMs: number;
  /** Trades accepted by the server's capture per second. */
  readonly produced: number;
  /** Trades received by all market clients per second. */
  readonly delivered: number;
  readonly frames: number;
  readonly marketP99: number;
  readonly orderP99: number;
  readonly yjsP99: number;
  readonly genLagP99Ms: number;
  readonly genCpu: number;
  /** The machine's 1-minute load average: every process, not only this run's (2 cores here). */
  readonly load: number;
  readonly orders: number;
  readonly edits: number;
  readonly errors: number;
}

export interface SoakReport {
  readonly options: SoakOptions;
  readonly backend: 'postgres' | 'pglite';
  readonly bus: 'redis' | 'in-process';
  readonly tickers: readonly string[];
  readonly setupSeconds: number;
  readonly samples: readonly SoakSample[];
  /** The server's memory, read every second: t (s since the load started), RSS and used heap. */
  readonly probes: readonly { t: number; rssMb: number; heapMb: number }[];
  /** The used heap right after each forced full GC. */
  readonly gcProbes: readonly { t: number; heapMb: number }[];
  /** Everything counted as an error, by kind, with the first few details. */
  readonly errors: Readonly<Record<string, number>>;
  readonly errorCount: number;
  readonly errorExamples: readonly string[];
  readonly latency: {
    readonly market: LatencySummary;
    readonly orderAck: LatencySummary;
    readonly orderFill: LatencySummary;
    readonly yjs: LatencySummary;
    readonly genLag: LatencySummary;
  };
  readonly market: {
    readonly trades: number;
    readonly frames: number;
    readonly producedPerSecond: number;
    readonly deliveredPerSecond: number;
    /** Sockets the server conflated (fell behind), and gaps filled by a replay. */
    readonly conflations: number;
    readonly replays: number;
    readonly replayedTrades: number;
    readonly decodedFrames: number;
    readonly slowConsumerClosed: number;
    /** The server's market events by `kind outcome` (what went through the capture ring). */
    readonly events: Readonly<Record<string, number>>;
    /** Dead letters by `source reason`. */
    readonly deadLetters: Readonly<Record<string, number>>;
    readonly ringOverflow: number;
    readonly ticksStored: number;
  };
  readonly orders: {
    readonly sent: number;
    readonly answered: number;
    readonly ok: number;
    readonly riskRejected: Readonly<Record<string, number>>;
    /** Refused with a Retry-After (429 or 503: the server shedding load), by error code. */
    readonly shed: Readonly<Record<string, number>>;
    readonly filled: number;
    readonly finalStates: Readonly<Record<string, number>>;
    readonly notFinal: number;
  };
  readonly yjs: {
    readonly edits: number;
    readonly deliveries: number;
    readonly rooms: number;
    readonly converged: number;
    readonly reconnects: number;
    /** Each close an editor saw: room, code, reason. */
    readonly closes: readonly string[];
  };
  readonly heap: {
    /** Medians of the after-GC heap (one per row) in the 2nd and the last third. */
    readonly secondThirdMb: number;
    readonly lastThirdMb: number;
    readonly growthMb: number;
    readonly toleranceMb: number;
    /** Least-squares slope of the after-GC heap over the last two thirds, MB per minute. */
    readonly slopeMbPerMin: number;
    /** The same medians over the 1 s probes without a forced GC: the V8 sawtooth, for comparison. */
    readonly unforcedSecondThirdMb: number;
    readonly unforcedLastThirdMb: number;
    readonly rssSecondThirdMb: number;
    readonly rssLastThirdMb: number;
    readonly ok: boolean;
  };
  readonly server: {
    readonly exit: number | string;
    readonly warnings: readonly string[];
  };
}
