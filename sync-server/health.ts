import { HEALTH_SERIES, type HealthJson, type HealthSeries, type LinkState } from './shared/admin.ts';
import type { ConnectorStatus } from './shared/market.ts';

// The operator's feed health: what the server already counts (the DLL's states, the day's trades
// per ticker, the capture ring, the tick writer, the sockets, the dead letters), read every
// 10 s and kept for 15 minutes, so the health screen draws the recent past from the server's
// own figures and not from a second collection.

type Link = keyof HealthJson['links'];

/** ProfitDLL's TStateCallback results per connection type (API.md). */
const LABELS: Record<Link, Record<number, string>> = {
  login: {
    0: 'connected',
    1: 'invalid login',
    2: 'invalid password',
    3: 'password blocked',
    4: 'password expired',
    200: 'unknown error',
  },
  routing: {
    0: 'disconnected',
    1: 'connecting',
    2: 'connected',
    3: 'broker disconnected',
    4: 'broker connecting',
    5: 'broker connected',
  },
  marketData: { 0: 'disconnected', 1: 'connecting', 2: 'waiting', 3: 'not logged in', 4: 'connected' },
  activation: { 0: 'valid', 1: 'invalid' },
};

/** What the health monitor reads; each the server's own state. */
export interface HealthSources {
  readonly connector: () => ConnectorStatus;
  /** When each connection state last changed, ms since the epoch (undefined: never reported). */
  readonly linkChangedAt: (link: Link) => number | undefined;
  /** Trades counted today per ticker (the quotes' trade counts). */
  readonly tradeCounts: () => Readonly<Record<string, number>>;
  readonly ring: () => HealthJson['ring'];
  readonly writer: () => HealthJson['writer'];
  readonly database: () => Promise<boolean>;
  /** Null when no Redis is configured. */
  readonly redis: () => boolean | null;
  readonly clients: () => HealthJson['clients'];
  readonly deadLettersOpen: () => Promise<number>;
}

export interface HealthOptions {
  readonly intervalMs: number;
  /** Samples kept: 90 × 10 s = the last 15 minutes. */
  readonly keep: number;
  readonly now: () => number;
}

export const DEFAULT_HEALTH: HealthOptions = { intervalMs: 10_000, keep: 90, now: Date.now };

interface Sample {
  readonly at: number;
  readonly counts: Readonly<Record<string, number>>;
  readonly rates: Readonly<Record<string, number>>;
  readonly values: Readonly<Record<HealthSeries, number>>;
}

export class HealthMonitor {
  private readonly samples: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<Sample> | undefined;

  constructor(
    private readonly sources: HealthSources,
    private readonly opts: HealthOptions = DEFAULT_HEALTH,
  ) {}

  start(): void {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.opts.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Takes one sample (one at a time: a slow database probe is not stacked). */
  sample(): Promise<Sample> {
    this.sampling ??= this.take().finally(() => {
      this.sampling = undefined;
    });
    return this.sampling;
  }

  private async take(): Promise<Sample> {
    const s = this.sources;
    const at = this.opts.now();
    const counts = { ...s.tradeCounts() };
    const prev = this.samples.at(-1);
    const rates: Record<string, number> = {};
    for (const [ticker, n] of Object.entries(counts)) {
      const before = prev?.counts[ticker];
      const secs = prev ? (at - prev.at) / 1000 : 0;
      // A new session day restarts the count: that interval's rate is unknown, not negative.
      rates[ticker] = before !== undefined && secs > 0 && n >= before ? round((n - before) / secs) : 0;
    }
    const clients = s.clients();
    const values: Record<HealthSeries, number> = {
      tradesPerSecond: round(Object.values(rates).reduce((a, b) => a + b, 0)),
      ringUsed: s.ring().used,
      writerBacklog: s.writer().bufferedRows,
      clients: clients.market + clients.yjs,
      deadLetters: await s.deadLettersOpen().catch(() => prev?.values.deadLetters ?? 0),
    };
    const sample = { at, counts, rates, values };
    this.samples.push(sample);
    if (this.samples.length > this.opts.keep) this.samples.shift();
    return sample;
  }

  /** The health screen's answer: the current figures and the last 15 minutes. */
  async snapshot(): Promise<HealthJson> {
    const s = this.sources;
    const last = this.samples.at(-1) ?? (await this.sample());
    const status = s.connector();
    const link = (name: Link, code: number | null): LinkState => {
      const since = s.linkChangedAt(name);
      return {
        code,
        label: code === null ? 'not reported' : (LABELS[name][code] ?? `state ${code}`),
        since: since === undefined ? null : new Date(since).toISOString(),
      };
    };
    const [database, deadLettersOpen] = await Promise.all([
      s.database().catch(() => false),
      s.deadLettersOpen().catch(() => last.values.deadLetters),
    ]);
    const series = {} as Record<HealthSeries, (readonly [number, number])[]>;
    for (const name of HEALTH_SERIES)
      series[name] = this.samples.map((p) => [Math.floor(p.at / 1000), p.values[name]] as const);
    return {
      at: new Date(this.opts.now()).toISOString(),
      connector: status,
      links: {
        login: link('login', status.login),
        marketData: link('marketData', status.marketData),
        routing: link('routing', status.routing),
        activation: link('activation', status.activation),
      },
      tradesPerSecond: last.rates,
      ring: s.ring(),
      writer: s.writer(),
      database,
      redis: s.redis(),
      clients: s.clients(),
      deadLettersOpen,
      series,
    };
  }
}

const round = (n: number) => Math.round(n * 100) / 100;
