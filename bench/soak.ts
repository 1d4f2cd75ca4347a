import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { decodeFrame, FrameFlag, FrameKind, type ServerMessage } from '../sync-server/shared/market.ts';
import { sampleSum, sampleValues, scrape } from '../sync-server/testing/metrics.ts';
import { login, type ServerProcess, scratchPostgres, spawnServer } from '../sync-server/testing/server.ts';
import { until } from '../sync-server/testing/until.ts';

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

// ---------------------------------------------------------------- small tools
const nowMs = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MB = 1024 * 1024;
/** The server's memory is read this often (the table shows one row per sampleSeconds). */
const PROBE_MS = 1_000;

/** Latencies in 0.1 ms buckets up to 60 s. */
class Histogram {
  private readonly buckets = new Uint32Array(600_000);
  count = 0;
  max = 0;
  add(ms: number) {
    const i = ms <= 0 ? 0 : Math.min(this.buckets.length - 1, Math.round(ms * 10));
    this.buckets[i] = (this.buckets[i] as number) + 1;
    this.count++;
    if (ms > this.max) this.max = ms;
  }
  quantile(p: number): number {
    if (this.count === 0) return Number.NaN;
    const want = Math.max(1, Math.ceil(p * this.count));
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i] as number;
      // The last bucket holds everything from 60 s up.
      if (seen >= want) return i === this.buckets.length - 1 ? Number.POSITIVE_INFINITY : i / 10;
    }
    return this.max;
  }
  reset() {
    this.buckets.fill(0);
    this.count = 0;
    this.max = 0;
  }
  summary(): LatencySummary {
    return {
      count: this.count,
      p50: this.quantile(0.5),
      p99: this.quantile(0.99),
      p999: this.quantile(0.999),
      max: this.max,
    };
  }
}

/** A latency kind: one histogram per sampling window, one over the run after the warm-up. */
class Latency {
  readonly window = new Histogram();
  readonly total = new Histogram();
  measuring = false;
  add(ms: number) {
    this.window.add(ms);
    if (this.measuring) this.total.add(ms);
  }
}

class Errors {
  readonly counts = new Map<string, number>();
  readonly examples: string[] = [];
  total = 0;
  add(kind: string, detail = '') {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    this.total++;
    if (this.examples.length < 20) this.examples.push(detail ? `${kind}: ${detail}` : kind);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

type Api = (
  method: string,
  path: string,
  body?: unknown,
  token?: string,
) => Promise<{ status: number; body: Record<string, unknown> }>;

function apiOf(url: string): Api {
  return async (method, path, body, token) => {
    const r = await fetch(`${url}${path}`, {
      method,
      headers: {
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
}

async function expectStatus(
  p: Promise<{ status: number; body: Record<string, unknown> }>,
  want: number,
  what: string,
) {
  const r = await p;
  if (r.status !== want) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/**
 * The server's V8 inspector (it runs with --inspect on a loopback port): a full GC before a
 * memory reading measures the live heap instead of wherever V8's sawtooth happens to be.
 */
class Inspector {
  private next = 1;
  private readonly waiting = new Map<number, (m: { error?: { message: string } }) => void>();
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (d: Buffer) => {
      const m = JSON.parse(d.toString()) as { id?: number; error?: { message: string } };
      if (m.id !== undefined) this.waiting.get(m.id)?.(m);
    });
  }
  static async open(output: () => string): Promise<Inspector> {
    const url = await until(() => /Debugger listening on (ws:\/\/\S+)/.exec(output())?.[1], 'inspector url');
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return new Inspector(ws);
  }
  call(method: string): Promise<void> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (m) => {
        this.waiting.delete(id);
        if (m.error) reject(new Error(`${method}: ${m.error.message}`));
        else resolve();
      });
      this.ws.send(JSON.stringify({ id, method }));
    });
  }
  close() {
    this.ws.close();
  }
}

// ---------------------------------------------------------------- market clients
const TRADE_RECORD = 52;
const CAPTURED_AT = 24;

interface MarketTotals {
  trades: number;
  frames: number;
  decoded: number;
  conflations: number;
  replays: number;
  replayedTrades: number;
}

class MarketClient {
  readonly ws: WebSocket;
  subscribed = false;
  stopping = false;
  /** Last contiguous seq per ticker; undefined until the subscribe snapshot or first frame. */
  private readonly last = new Map<string, number | undefined>();
  private readonly received = new Set<string>();
  /** Tickers waiting for the replay asked for after a gap. */
  private readonly resyncing = new Set<string>();
  /** Set by `conflated`: the next gap is the expected one, filled by a replay. */
  private conflated = false;
  private replayLeft = 0;
  constructor(
    url: string,
    private readonly tickers: string[],
    private readonly decode: boolean,
    private readonly totals: MarketTotals,
    private readonly latency: Latency,
    private readonly errors: Errors,
  ) {
    this.ws = new WebSocket(url, { perMessageDeflate: false });
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      try {
        if (isBinary) this.frame(data);
        else this.control(JSON.parse(data.toString()) as ServerMessage);
      } catch (err) {
        this.errors.add('market: bad message', (err as Error).message);
      }
    });
    this.ws.on('error', (err) => {
      if (!this.stopping) this.errors.add('market: socket error', err.message);
    });
    this.ws.on('close', (code, reason) => {
      if (!this.stopping) this.errors.add('market: socket closed', `${code} ${reason.toString()}`);
    });
  }

  private send(m: unknown) {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(m));
  }

  private control(m: ServerMessage) {
    switch (m.type) {
      case 'hello':
        for (const t of this.tickers) this.last.set(t, undefined);
        this.send({ type: 'sub', channel: 'trades', tickers: this.tickers });
        return;
      case 'snapshot':
        if (m.reason === 'subscribe') {
          for (const q of m.quotes) if (this.last.has(q.ticker)) this.last.set(q.ticker, q.seq);
        } else if (m.reason === 'gap_too_large') {
          // The server no longer has what this client missed: events are lost for it.
          for (const q of m.quotes) {
            this.errors.add('market: gap_too_large', `${q.ticker} after ${this.last.get(q.ticker)}`);
            this.last.set(q.ticker, q.seq);
            this.resyncing.delete(q.ticker);
          }
        }
        return;
      case 'replay': {
        const last = this.last.get(m.ticker);
        if (last !== undefined && m.from !== last + 1)
          this.errors.add('market: replay does not follow', `${m.ticker} last ${last}, replay ${m.from}`);
        this.resyncing.delete(m.ticker);
        this.replayLeft += m.to - m.from + 1;
        this.totals.replays++;
        return;
      }
      case 'subscribed':
        this.subscribed = true;
        return;
      case 'conflated':
        this.conflated = true;
        this.totals.conflations++;
        return;
      case 'error':
        this.errors.add('market: server error message', `${m.code} ${m.message}`);
        return;
      default:
        return;
    }
  }

  private frame(data: Buffer) {
    const now = nowMs();
    const n = data[3] as number;
    const head = 6 + n;
    const count = data.length >= head ? data.readUInt16LE(4 + n) : 0;
    if (data[0] !== 1 || data[1] !== FrameKind.trades || count === 0 || data.length !== head + count * 52) {
      this.errors.add('market: malformed frame', `${data.length} bytes`);
      return;
    }
    const ticker = data.toString('latin1', 4, 4 + n);
    const first = data.readDoubleLE(head);
    const lastInFrame = data.readDoubleLE(head + (count - 1) * TRADE_RECORD);
    const replay = ((data[2] as number) & FrameFlag.replay) !== 0;
    this.totals.frames++;
    this.totals.trades += count;
    if (lastInFrame - first !== count - 1)
      this.errors.add('market: frame not contiguous', `${ticker} ${first}..${lastInFrame} in ${count}`);
    if (this.decode) {
      this.totals.decoded++;
      const f = decodeFrame(data);
      if (
        f.kind !== FrameKind.trades ||
        f.ticker !== ticker ||
        f.trades[0]?.seq !== first ||
        f.trades.at(-1)?.seq !== lastInFrame
      )
        this.errors.add('market: decoder disagrees', ticker);
    }
    if (replay) {
      this.totals.replayedTrades += count;
      this.replayLeft = Math.max(0, this.replayLeft - count);
    } else {
      // Latency of live events only: a replay's capture stamps are old on purpose.
      for (let o = head + CAPTURED_AT, k = 0; k < count; k++, o += TRADE_RECORD)
        this.latency.add(now - data.readDoubleLE(o));
    }
    if (!this.last.has(ticker)) {
      this.errors.add('market: frame of a ticker not subscribed', ticker);
      return;
    }
    this.received.add(ticker);
    if (this.resyncing.has(ticker)) return; // these come again in the replay
    const last = this.last.get(ticker);
    if (last === undefined || first === last + 1) {
      this.last.set(ticker, lastInFrame);
      return;
    }
    if (first <= last) {
      this.errors.add(
        'market: duplicate seq',
        `${ticker} ${first} after ${last}${replay ? ' (replay)' : ''}`,
      );
      if (lastInFrame > last) this.last.set(ticker, lastInFrame);
      return;
    }
    // A gap. Expected once after the server conflated this socket (it then joins the live
    // stream again and the client asks for a replay); anywhere else it is a lost event.
    if (!this.conflated || replay)
      this.errors.add('market: gap in the live stream', `${ticker} ${first} after ${last}`);
    this.conflated = false;
    this.resyncing.add(ticker);
    this.send({ type: 'sub', channel: 'trades', tickers: [ticker], since: { [ticker]: last } });
  }

  /** What is still wrong at the end: a gap never filled, a ticker that never traded. */
  check() {
    for (const t of this.tickers) if (!this.received.has(t)) this.errors.add('market: no trade received', t);
    for (const t of this.resyncing) this.errors.add('market: gap never repaired', t);
    if (this.replayLeft > 0) this.errors.add('market: replay incomplete', `${this.replayLeft} trades`);
  }
}

// ---------------------------------------------------------------- Yjs editors
const stateOf = (doc: Y.Doc) =>
  JSON.stringify([doc.getArray('tickers').toJSON(), [...doc.getMap('notes').entries()].sort()]);

class Editor {
  readonly doc = new Y.Doc();
  readonly provider: WebsocketProvider;
  synced = false;
  stopping = false;
  edits = 0;
  reconnects = 0;
  readonly closes: string[] = [];
  private readonly seen = new Map<string, number>();
  constructor(
    port: number,
    token: string,
    readonly room: string,
    private readonly key: string,
    private readonly ticker: string,
    latency: Latency,
    deliveries: { n: number },
    errors: Errors,
  ) {
    const notes = this.doc.getMap<string>('notes');
    notes.observe((ev, tr) => {
      if (tr.local) return;
      const now = nowMs();
      for (const k of ev.keysChanged) {
        const stamp = Number(notes.get(k));
        if (!Number.isFinite(stamp) || stamp <= (this.seen.get(k) ?? 0)) continue;
        this.seen.set(k, stamp);
        if (!this.synced) continue; // the initial sync carries old edits
        deliveries.n++;
        latency.add(now - stamp);
      }
    });
    this.provider = new WebsocketProvider(`ws://127.0.0.1:${port}/yjs`, room, this.doc, {
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      params: { token },
      disableBc: true,
      maxBackoffTime: 1_000,
    });
    this.provider.on('sync', (s: boolean) => {
      if (s) this.synced = true;
    });
    this.provider.on('connection-close', (ev: CloseEvent | null) => {
      if (this.stopping) return;
      // A reconnect is counted and reported, not an error by itself: the provider resyncs, and
      // what must hold — every room converging, nothing lost — is checked at the end.
      this.reconnects++;
      this.closes.push(`${room} ${ev?.code ?? '?'} ${ev?.reason ?? ''}`.trim());
    });
    this.provider.on('connection-error', () => {
      if (!this.stopping) errors.add('yjs: connection error', room);
    });
  }

  /** One small edit: this editor's note (a timestamp), and every 5th time its ticker in or out. */
  edit() {
    this.edits++;
    this.doc.transact(() => {
      this.doc.getMap<string>('notes').set(this.key, nowMs().toFixed(3));
      if (this.edits % 5 === 0) {
        const list = this.doc.getArray<string>('tickers');
        const mine = `${this.ticker}#${this.key}`;
        const at = list.toArray().indexOf(mine);
        if (at >= 0) list.delete(at, 1);
        else list.push([mine]);
      }
    });
  }

  get state() {
    return stateOf(this.doc);
  }
}

// ---------------------------------------------------------------- the run

const DEFAULT_TICKERS = 'PETR4:B,VALE3:B,ITUB4:B,BBDC4:B,WINZ25:F,WDOZ25:F';
const EQUITIES = ['PETR4', 'VALE3', 'ITUB4', 'BBDC4'];
const ORDER_TIMEOUT_MS = 10_000;
const LIMITS = {
  maxOrderQty: 10_000,
  maxOrderNotionalCents: 1_000_000_000,
  maxPositionQty: 1_000_000,
  maxOpenOrders: 1_000,
  dailyLossLimitCents: 1_000_000_000_000,
  priceBandPct: 10,
  ordersPerSecond: 200,
  orderBurst: 1_000,
};

export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const errors = new Errors();
  const setupStart = Date.now();
  const db = process.env.DATABASE_URL
    ? await scratchPostgres('tape_soak')
    : { url: undefined, drop: async () => {} };
  const dataDir = mkdtempSync(join(tmpdir(), 'tape-soak-'));
  const docsDir = join(dataDir, 'no-docs');
  mkdirSync(docsDir);
  const tickerSpec = opts.serverEnv?.TAPE_TICKERS ?? DEFAULT_TICKERS;
  const tickerCount = tickerSpec.split(',').length;
  let server: ServerProcess | undefined;
  const cleanups: (() => void)[] = [];
  // Each stock WebsocketProvider adds a process 'exit' listener.
  const maxListeners = process.getMaxListeners();
  process.setMaxListeners(Math.max(maxListeners, opts.editors + opts.rooms + 20));
  cleanups.push(() => process.setMaxListeners(maxListeners));
  try {
    server = await spawnServer(
      {
        TAPE_DATA_DIR: dataDir,
        // No assistant corpus: an ingest of ./docs at boot is load this soak does not measure.
        TAPE_RAG_DOCS_DIRS: docsDir,
        TAPE_SIM_RATE: String(opts.rate / tickerCount),
        // Sockets live as long as their token: outlast the run rather than renew.
        TAPE_ACCESS_TOKEN_TTL_S: '86400',
        ...(db.url ? { DATABASE_URL: db.url } : {}),
        // Loopback, random port: the soak forces a full GC through it before each memory reading.
        NODE_OPTIONS: [process.env.NODE_OPTIONS, '--inspect=127.0.0.1:0'].filter(Boolean).join(' '),
        ...opts.serverEnv,
      },
      60_000,
    );
    const srv = server;
    const inspector = await Inspector.open(srv.output);
    cleanups.push(() => inspector.close());
    const api = apiOf(srv.url);
    const admin = await login(srv.url);
    await until(
      async () => (await api('GET', '/readyz')).status === 200,
      'server ready (orders reconciled)',
      30_000,
    );

    // ---- users: a viewer for the market sockets, traders with accounts, editors
    const password = 'soak-password-1';
    const newUser = async (username: string, role: string) => {
      const body = await expectStatus(
        api('POST', '/api/v1/users', { username, password, role }, admin),
        201,
        `create ${username}`,
      );
      return (body.user as { userId: number }).userId;
    };
    await newUser('soak-watcher', 'viewer');
    const watcher = await login(srv.url, 'soak-watcher', password);
    const traders: { name: string; token: string; ws?: WebSocket }[] = [];
    for (let i = 0; i < opts.traders; i++) {
      const name = `soak-trader-${i}`;
      const account = `SOAK-${i}`;
      await expectStatus(
        api('POST', '/api/v1/accounts', { id: account, brokerId: 1982, name: account }, admin),
        201,
        `account ${account}`,
      );
      const id = await newUser(name, 'trader');
      await expectStatus(
        api('PUT', `/api/v1/users/${id}/account`, { accountId: account }, admin),
        200,
        'assign account',
      );
      await expectStatus(api('PUT', `/api/v1/risk/config/${account}`, LIMITS, admin), 200, 'risk config');
      traders.push({ name, token: await login(srv.url, name, password) });
    }
    const editorUsers = Math.max(1, Math.min(10, Math.ceil(opts.editors / Math.max(1, opts.rooms))));
    const editorTokens: string[] = [];
    for (let i = 0; i < editorUsers; i++) {
      await newUser(`soak-editor-${i}`, 'trader');
      editorTokens.push(await login(srv.url, `soak-editor-${i}`, password));
    }
    const rooms: string[] = [];
    for (let r = 0; r < opts.rooms; r++) {
      const owner = r % editorUsers;
      const body = await expectStatus(
        api('POST', '/api/v1/watchlists', { name: `Soak ${r}` }, editorTokens[owner]),
        201,
        'create watchlist',
      );
      const wl = body.watchlist as { id: number; room: string };
      for (let u = 0; u < editorUsers; u++)
        if (u !== owner)
          await expectStatus(
            api(
              'PUT',
              `/api/v1/watchlists/${wl.id}/members/soak-editor-${u}`,
              { role: 'editor' },
              editorTokens[owner],
            ),
            200,
            'share watchlist',
          );
      rooms.push(wl.room);
    }

    // ---- market clients
    const tickers = await new Promise<string[]>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/ws?token=${watcher}`);
      ws.once('message', (d: Buffer) => {
        const m = JSON.parse(d.toString()) as Extract<ServerMessage, { type: 'hello' }>;
        ws.close();
        resolve(m.tickers);
      });
      ws.once('error', reject);
    });
    const marketLatency = new Latency();
    const totals: MarketTotals = {
      trades: 0,
      frames: 0,
      decoded: 0,
      conflations: 0,
      replays: 0,
      replayedTrades: 0,
    };
    const clients: MarketClient[] = [];
    cleanups.push(() => {
      for (const c of clients) {
        c.stopping = true;
        c.ws.terminate();
      }
    });
    const wsUrl = `ws://127.0.0.1:${srv.port}/ws?token=${watcher}`;
    for (let i = 0; i < opts.clients; i += 50) {
      const batch: MarketClient[] = [];
      for (let j = i; j < Math.min(opts.clients, i + 50); j++) {
        const mine = Array.from(
          { length: Math.min(opts.tickersPerClient, tickers.length) },
          (_, k) => tickers[(j + k) % tickers.length] as string,
        );
        batch.push(new MarketClient(wsUrl, mine, j % opts.decodeEvery === 0, totals, marketLatency, errors));
      }
      clients.push(...batch);
      await until(() => batch.every((c) => c.subscribed), 'market clients subscribed', 30_000).catch(
        (err) => {
          throw new Error(
            `${(err as Error).message}: ${batch.filter((c) => !c.subscribed).length} of ${batch.length} not subscribed; ${errors.examples.join(' | ')}`,
          );
        },
      );
    }

    // ---- traders' sockets: order pushes (fill latency, final states)
    const orderAck = new Latency();
    const orderFill = new Latency();
    const sentAt = new Map<number, number>();
    const pushedFinal = new Map<number, { state: string; at: number }>();
    const finalStates = new Map<string, number>();
    const FINAL = new Set(['filled', 'rejected', 'cancelled', 'expired', 'not_sent']);
    cleanups.push(() => {
      for (const tr of traders) tr.ws?.terminate();
    });
    for (const tr of traders) {
      const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/ws?token=${tr.token}`, {
        perMessageDeflate: false,
      });
      tr.ws = ws;
      ws.on('message', (d: Buffer, binary: boolean) => {
        if (binary) return;
        const m = JSON.parse(d.toString()) as ServerMessage;
        if (m.type !== 'order' || !FINAL.has(m.order.state) || pushedFinal.has(m.order.id)) return;
        const at = nowMs();
        pushedFinal.set(m.order.id, { state: m.order.state, at });
        finalStates.set(m.order.state, (finalStates.get(m.order.state) ?? 0) + 1);
        const t0 = sentAt.get(m.order.id);
        if (t0 !== undefined && m.order.state === 'filled') orderFill.add(at - t0);
      });
      ws.on('error', (err) => errors.add('orders: socket error', err.message));
      await new Promise((r, j) => ws.once('open', r).once('error', j));
    }
    await sleep(300); // the account topic is joined after a lookup

    // ---- editors
    const yjsLatency = new Latency();
    const deliveries = { n: 0 };
    const editors: Editor[] = [];
    const perRoom = Math.ceil(opts.editors / Math.max(1, opts.rooms));
    for (let i = 0; i < opts.editors; i++) {
      const room = i % opts.rooms;
      const slot = Math.floor(i / opts.rooms);
      editors.push(
        new Editor(
          srv.port,
          editorTokens[slot % editorUsers] as string,
          rooms[room] as string,
          `e${i}`,
          EQUITIES[i % EQUITIES.length] as string,
          yjsLatency,
          deliveries,
          errors,
        ),
      );
    }
    cleanups.push(() => {
      for (const e of editors) {
        e.stopping = true;
        e.provider.destroy();
      }
    });
    await until(() => editors.every((e) => e.synced), 'editors synced', 60_000);
    const setupSeconds = (Date.now() - setupStart) / 1000;
    log(
      `soak: ${opts.clients} market clients (${opts.tickersPerClient} of ${tickers.length} tickers each), ${opts.rate.toLocaleString('en')} trades/s, ` +
        `${opts.ordersPerSecond} orders/s from ${opts.traders} traders, ${opts.editors} editors in ${opts.rooms} rooms ` +
        `(${perRoom} per room, ${opts.editsPerSecond} edits/s each); ${db.url ? 'PostgreSQL' : 'PGlite'}, ` +
        `${process.env.REDIS_URL ? 'Redis bus' : 'in-process bus'}; setup ${setupSeconds.toFixed(1)} s; ${opts.seconds} s of load; machine load average ${(loadavg()[0] as number).toFixed(1)} on ${availableParallelism()} cores`,
    );

    // ---- load
    const start = nowMs();
    const elapsed = () => (nowMs() - start) / 1000;
    const warmup = opts.seconds / 3;
    let stopped = false;
    // orders
    let ordersSent = 0;
    let ordersAnswered = 0;
    let ordersOk = 0;
    let inFlight = 0;
    let draining = false; // past the wait for answers: what is still in flight is counted once
    const riskRejected = new Map<string, number>();
    const shed = new Map<string, number>();
    const side = new Map<string, number>();
    const sendOrder = () => {
      const k = ordersSent++;
      const trader = traders[k % traders.length] as (typeof traders)[number];
      const ticker = EQUITIES[Math.floor(k / traders.length) % EQUITIES.length] as string;
      const key = `${trader.name}/${ticker}`;
      const n = side.get(key) ?? 0;
      side.set(key, n + 1);
      // One in 50 is over the account's maximum quantity: it must come back as a risk 422.
      const oversized = k % 50 === 49;
      const body = {
        clientOrderId: `soak-${k}`,
        ticker,
        side: n % 2 ? 'sell' : 'buy',
        type: 'market',
        qty: oversized ? LIMITS.maxOrderQty * 2 : 100,
      };
      const t0 = nowMs();
      inFlight++;
      fetch(`${srv.url}/api/v1/orders`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${trader.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        // A trader's client gives up after this (and would resend the same clientOrderId): it
        // also keeps the generator's open requests bounded when the server falls behind.
        signal: AbortSignal.timeout(ORDER_TIMEOUT_MS),
      })
        .then(async (r) => {
          const json = (await r.json()) as { error?: string; order?: { id: number } };
          const t1 = nowMs();
          ordersAnswered++;
          if (r.status === 201 || r.status === 200) {
            ordersOk++;
            orderAck.add(t1 - t0);
            const id = json.order?.id as number;
            const pushed = pushedFinal.get(id);
            if (pushed?.state === 'filled') orderFill.add(pushed.at - t0);
            else sentAt.set(id, t0);
            if (oversized) errors.add('orders: oversized order accepted', body.clientOrderId);
          } else if (r.status === 422) {
            orderAck.add(t1 - t0);
            const reason = json.error ?? 'unknown';
            riskRejected.set(reason, (riskRejected.get(reason) ?? 0) + 1);
          } else if ((r.status === 429 || r.status === 503) && r.headers.get('retry-after')) {
            // Shed, saying when to come back: not an error, but not held either (reported).
            const reason = json.error ?? 'unknown';
            shed.set(reason, (shed.get(reason) ?? 0) + 1);
          } else errors.add(`orders: HTTP ${r.status}`, JSON.stringify(json).slice(0, 200));
        })
        .catch((err: Error) => {
          if (draining) return;
          if (err.name !== 'TimeoutError') ordersAnswered++;
          if (err.name === 'TimeoutError') errors.add('orders: no answer within 10 s', body.clientOrderId);
          else errors.add('orders: network error', err.message);
        })
        .finally(() => {
          inFlight--;
        });
    };
    const orderTimer = setInterval(() => {
      if (stopped) return;
      const due = Math.floor(elapsed() * opts.ordersPerSecond);
      while (ordersSent < due) sendOrder();
    }, 10);
    cleanups.push(() => clearInterval(orderTimer));
    // edits, each editor on its own phase
    const editTimer = setInterval(() => {
      if (stopped) return;
      const el = elapsed();
      editors.forEach((e, i) => {
        const due = Math.floor(el * opts.editsPerSecond + i / editors.length);
        while (e.edits < due) e.edit();
      });
    }, 20);
    cleanups.push(() => clearInterval(editTimer));

    // sampling: the server's memory every probe (1 s), a row of the table every sampleSeconds
    const genLag = monitorEventLoopDelay({ resolution: 1 });
    genLag.enable();
    const genLagTotal = new Histogram();
    cleanups.push(() => genLag.disable());
    const samples: SoakSample[] = [];
    const probes: { t: number; rssMb: number; heapMb: number }[] = [];
    const gcProbes: { t: number; heapMb: number }[] = [];
    const readMetrics = () => scrape(srv.url);
    let lastMetrics = await readMetrics();
    let prev = {
      at: nowMs(),
      cpu: process.cpuUsage(),
      serverCpu: sampleSum(lastMetrics, 'tape_process_cpu_seconds_total'),
      produced: sampleSum(lastMetrics, 'tape_market_events_total', 'kind="trade",outcome="accepted"'),
      trades: totals.trades,
      frames: totals.frames,
      orders: ordersSent,
      edits: 0,
      probes: 0,
    };
    let serverLagP99 = 0;
    let serverLagMax = 0;
    let lostSoFar = sampleSum(lastMetrics, 'tape_market_events_total', 'outcome="ring_overflow"');
    if (lostSoFar > 0) errors.add('market: capture ring overflow during setup', String(lostSoFar));
    marketLatency.window.reset();
    orderAck.window.reset();
    yjsLatency.window.reset();
    genLag.reset();
    log(
      '| t s | rss MB | heap MB (min–max) | after GC MB | srv CPU % | srv lag p99 / max ms | produced/s | delivered/s | frames/s | mkt p99 ms | ack p99 ms | yjs p99 ms | gen lag p99 ms | gen CPU % | load | errors |',
    );
    log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    let nextRow = opts.sampleSeconds;
    while (elapsed() < opts.seconds && !opts.signal?.aborted) {
      await sleep(Math.max(0, Math.min(PROBE_MS, (opts.seconds - elapsed()) * 1000)));
      let text: string;
      try {
        text = await readMetrics();
        lastMetrics = text;
      } catch (err) {
        errors.add('metrics: scrape failed', (err as Error).message);
        continue;
      }
      const el = elapsed();
      probes.push({
        t: el,
        rssMb: sampleSum(text, 'tape_process_resident_memory_bytes') / MB,
        heapMb: sampleSum(text, 'tape_nodejs_heap_size_used_bytes') / MB,
      });
      // Events the capture ring dropped never get a sequence: clients cannot see the loss.
      const lost = sampleSum(text, 'tape_market_events_total', 'outcome="ring_overflow"');
      if (lost > lostSoFar)
        errors.add(
          'market: capture ring overflow (events lost before sequencing)',
          `${lost - lostSoFar} at ${Math.round(el)} s`,
        );
      lostSoFar = lost;
      // prom-client resets its event-loop histogram at each scrape: keep the worst of the row.
      serverLagP99 = Math.max(serverLagP99, sampleSum(text, 'tape_nodejs_eventloop_lag_p99_seconds') * 1000);
      serverLagMax = Math.max(serverLagMax, sampleSum(text, 'tape_nodejs_eventloop_lag_max_seconds') * 1000);
      if (el < nextRow && el < opts.seconds && !opts.signal?.aborted) continue;
      nextRow += opts.sampleSeconds;
      let gcHeapMb = Number.NaN;
      try {
        await inspector.call('HeapProfiler.collectGarbage');
        const after = await readMetrics();
        gcHeapMb = sampleSum(after, 'tape_nodejs_heap_size_used_bytes') / MB;
        gcProbes.push({ t: el, heapMb: gcHeapMb });
      } catch (err) {
        errors.add('metrics: forced GC failed', (err as Error).message);
      }
      const at = nowMs();
      const dt = (at - prev.at) / 1000;
      const cpu = process.cpuUsage();
      const serverCpu = sampleSum(text, 'tape_process_cpu_seconds_total');
      const produced = sampleSum(text, 'tape_market_events_total', 'kind="trade",outcome="accepted"');
      const edits = editors.reduce((n, e) => n + e.edits, 0);
      const lagP99 = genLag.percentile(99) / 1e6;
      const heaps = probes.slice(prev.probes).map((p) => p.heapMb);
      const sample: SoakSample = {
        t: Math.round(el),
        rssMb: probes.at(-1)?.rssMb ?? Number.NaN,
        heapMb: median(heaps),
        heapMinMb: Math.min(...heaps),
        heapMaxMb: Math.max(...heaps),
        gcHeapMb,
        serverCpu: ((serverCpu - prev.serverCpu) / dt) * 100,
        serverLagP99Ms: serverLagP99,
        serverLagMaxMs: serverLagMax,
        produced: (produced - prev.produced) / dt,
        delivered: (totals.trades - prev.trades) / dt,
        frames: (totals.frames - prev.frames) / dt,
        marketP99: marketLatency.window.quantile(0.99),
        orderP99: orderAck.window.quantile(0.99),
        yjsP99: yjsLatency.window.quantile(0.99),
        genLagP99Ms: lagP99,
        load: loadavg()[0] as number,
        genCpu: ((cpu.user + cpu.system - prev.cpu.user - prev.cpu.system) / 1000 / (dt * 1000)) * 100,
        orders: (ordersSent - prev.orders) / dt,
        edits: (edits - prev.edits) / dt,
        errors: errors.total,
      };
      if (el > warmup) genLagTotal.add(lagP99);
      samples.push(sample);
      log(formatRow(sample));
      prev = {
        at,
        cpu,
        serverCpu,
        produced,
        trades: totals.trades,
        frames: totals.frames,
        orders: ordersSent,
        edits,
        probes: probes.length,
      };
      serverLagP99 = 0;
      serverLagMax = 0;
      marketLatency.window.reset();
      orderAck.window.reset();
      orderFill.window.reset();
      yjsLatency.window.reset();
      genLag.reset();
      const measuring = elapsed() >= warmup;
      for (const l of [marketLatency, orderAck, orderFill, yjsLatency]) l.measuring = measuring;
    }
    stopped = true;
    // Stopped early (the bench's Ctrl-C): the thirds are of the load that ran.
    const seconds = Math.min(opts.seconds, elapsed());

    // ---- drain and check
    await until(() => inFlight === 0, 'orders answered', 15_000).catch(() =>
      errors.add('orders: unanswered', `${inFlight} without an answer after 15 s`),
    );
    draining = true;
    const accepted = [...sentAt.keys()];
    await until(() => accepted.every((id) => pushedFinal.has(id)), 'orders final', 10_000).catch(() => {});
    const notFinal = accepted.filter((id) => !pushedFinal.has(id)).length;
    if (notFinal > 0) errors.add('orders: accepted but not final 10 s after the load', String(notFinal));
    // Yjs: every editor of a room ends with the same document, and so does a fresh reader that
    // loads the room from the server.
    const byRoom = new Map<string, Editor[]>();
    for (const e of editors) byRoom.set(e.room, [...(byRoom.get(e.room) ?? []), e]);
    const sameRooms = () =>
      [...byRoom.values()].filter((es) => es.every((e) => e.state === es[0]?.state)).length;
    await until(() => sameRooms() === byRoom.size, 'editors converged', 20_000).catch(() => {});
    const readers = [...byRoom].map(([room, es]) => {
      const doc = new Y.Doc();
      const provider = new WebsocketProvider(`ws://127.0.0.1:${srv.port}/yjs`, room, doc, {
        WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
        params: { token: editorTokens[0] as string },
        disableBc: true,
      });
      const done = () =>
        provider.synced && es.every((e) => e.state === es[0]?.state) && stateOf(doc) === es[0]?.state;
      return { room, provider, done };
    });
    await until(() => readers.every((r) => r.done()), 'rooms converged', 15_000).catch(() => {});
    let converged = 0;
    for (const r of readers) {
      if (r.done()) converged++;
      else errors.add('yjs: room did not converge', r.room);
    }
    for (const r of readers) r.provider.destroy();
    for (const c of clients) c.check();
    for (const c of cleanups.splice(0).reverse()) c();

    // ---- the server: stops cleanly; anything it logged at warn or above
    srv.child.kill('SIGTERM');
    const exit = await Promise.race([srv.exited, sleep(15_000).then(() => 'timeout' as const)]);
    if (exit === 'timeout') {
      errors.add('server: did not stop within 15 s of SIGTERM');
      srv.child.kill('SIGKILL');
      await srv.exited;
    } else if (exit !== 0) errors.add('server: exit', String(exit));
    if (opts.serverLogFile) writeFileSync(opts.serverLogFile, srv.output());
    const warnings: string[] = [];
    for (const line of srv.output().split('\n')) {
      const level = Number(/"level":(\d+)/.exec(line)?.[1]);
      if (level >= 50) errors.add('server: logged an error', line.slice(0, 300));
      else if (level >= 40) warnings.push(line.slice(0, 300));
    }

    // ---- memory: no growth after the warm-up. The live heap (after a forced full GC, one
    // reading per row) is compared, median of the 2nd third against median of the last third.
    const inThird = (t: number, k: number) => t > (k * seconds) / 3 && t <= ((k + 1) * seconds) / 3 + 0.5;
    const h2 = median(gcProbes.filter((p) => inThird(p.t, 1)).map((p) => p.heapMb));
    const h3 = median(gcProbes.filter((p) => inThird(p.t, 2)).map((p) => p.heapMb));
    const toleranceMb = Math.max(opts.heapToleranceMb, opts.heapToleranceFraction * h2);
    const growthMb = h3 - h2;
    const heap = {
      secondThirdMb: h2,
      lastThirdMb: h3,
      growthMb,
      toleranceMb,
      slopeMbPerMin: slope(
        gcProbes.filter((p) => p.t > seconds / 3).map((p) => ({ x: p.t / 60, y: p.heapMb })),
      ),
      unforcedSecondThirdMb: median(probes.filter((p) => inThird(p.t, 1)).map((p) => p.heapMb)),
      unforcedLastThirdMb: median(probes.filter((p) => inThird(p.t, 2)).map((p) => p.heapMb)),
      rssSecondThirdMb: median(probes.filter((p) => inThird(p.t, 1)).map((p) => p.rssMb)),
      rssLastThirdMb: median(probes.filter((p) => inThird(p.t, 2)).map((p) => p.rssMb)),
      ok: Number.isFinite(growthMb) && growthMb <= toleranceMb,
    };

    const measured = samples.filter((s) => s.t > warmup);
    const mean = (f: (s: SoakSample) => number) =>
      measured.length ? measured.reduce((n, s) => n + f(s), 0) / measured.length : Number.NaN;
    const report: SoakReport = {
      options: opts,
      backend: db.url ? 'postgres' : 'pglite',
      bus: process.env.REDIS_URL || opts.serverEnv?.REDIS_URL ? 'redis' : 'in-process',
      tickers,
      setupSeconds,
      samples,
      probes,
      gcProbes,
      errors: Object.fromEntries(errors.counts),
      errorCount: errors.total,
      errorExamples: errors.examples,
      latency: {
        market: marketLatency.total.summary(),
        orderAck: orderAck.total.summary(),
        orderFill: orderFill.total.summary(),
        yjs: yjsLatency.total.summary(),
        genLag: genLagTotal.summary(),
      },
      market: {
        trades: totals.trades,
        frames: totals.frames,
        producedPerSecond: mean((s) => s.produced),
        deliveredPerSecond: mean((s) => s.delivered),
        conflations: totals.conflations,
        replays: totals.replays,
        replayedTrades: totals.replayedTrades,
        decodedFrames: totals.decoded,
        slowConsumerClosed: sampleSum(lastMetrics, 'tape_ws_slow_consumer_closed_total'),
        events: sampleValues(lastMetrics, 'tape_market_events_total'),
        deadLetters: sampleValues(lastMetrics, 'tape_dead_letters_total'),
        ringOverflow: sampleSum(lastMetrics, 'tape_market_events_total', 'outcome="ring_overflow"'),
        ticksStored: sampleSum(lastMetrics, 'tape_ticks_written_total'),
      },
      orders: {
        sent: ordersSent,
        answered: ordersAnswered,
        ok: ordersOk,
        riskRejected: Object.fromEntries(riskRejected),
        shed: Object.fromEntries(shed),
        filled: finalStates.get('filled') ?? 0,
        finalStates: Object.fromEntries(finalStates),
        notFinal,
      },
      yjs: {
        edits: editors.reduce((n, e) => n + e.edits, 0),
        deliveries: deliveries.n,
        rooms: byRoom.size,
        converged,
        reconnects: editors.reduce((n, e) => n + e.reconnects, 0),
        closes: editors.flatMap((e) => e.closes),
      },
      heap,
      server: { exit: exit === 'timeout' ? 'killed' : exit, warnings },
    };
    return report;
  } finally {
    for (const c of cleanups.reverse()) c();
    if (server && server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
    await db.drop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- output
const f1 = (x: number) =>
  x === Number.POSITIVE_INFINITY ? '>60,000' : Number.isFinite(x) ? x.toFixed(1) : '–';
const f0 = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en') : '–');

export function formatRow(s: SoakSample): string {
  return `| ${s.t} | ${f0(s.rssMb)} | ${f1(s.heapMb)} (${f0(s.heapMinMb)}–${f0(s.heapMaxMb)}) | ${f1(s.gcHeapMb)} | ${f0(s.serverCpu)} | ${f0(s.serverLagP99Ms)} / ${f0(s.serverLagMaxMs)} | ${f0(s.produced)} | ${f0(s.delivered)} | ${f0(s.frames)} | ${f1(s.marketP99)} | ${f1(s.orderP99)} | ${f1(s.yjsP99)} | ${f1(s.genLagP99Ms)} | ${f0(s.genCpu)} | ${f1(s.load)} | ${s.errors} |`;
}

const lat = (l: LatencySummary) =>
  `p50 ${f1(l.p50)} / p99 ${f1(l.p99)} / p99.9 ${f1(l.p999)} / max ${f1(l.max)} ms (${l.count.toLocaleString('en')})`;

export function formatSummary(r: SoakReport): string {
  const o = r.orders;
  const counts = (m: Readonly<Record<string, number>>) =>
    Object.entries(m)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  const rejected = counts(o.riskRejected);
  return [
    `summary: ${r.errorCount} errors${r.errorCount ? ` ${JSON.stringify(r.errors)}` : ''}; live heap (after a full GC) ${f1(r.heap.secondThirdMb)} → ${f1(r.heap.lastThirdMb)} MB ` +
      `(median of the 2nd / last third; growth ${f1(r.heap.growthMb)} MB, allowed ${f1(r.heap.toleranceMb)}; slope ${r.heap.slopeMbPerMin.toFixed(2)} MB/min) ` +
      `${r.heap.ok ? 'flat' : 'GROWING'}; without GC ${f1(r.heap.unforcedSecondThirdMb)} → ${f1(r.heap.unforcedLastThirdMb)} MB; RSS ${f0(r.heap.rssSecondThirdMb)} → ${f0(r.heap.rssLastThirdMb)} MB`,
    `  market: produced ${f0(r.market.producedPerSecond)}/s, delivered ${f0(r.market.deliveredPerSecond)} trades/s to ${r.options.clients} clients ` +
      `(${f0(r.market.trades)} trades in ${f0(r.market.frames)} frames, ${f0(r.market.decodedFrames)} fully decoded); latency ${lat(r.latency.market)}; ` +
      `conflated ${r.market.conflations}, replays ${r.market.replays} (${r.market.replayedTrades} trades), slow-consumer closes ${r.market.slowConsumerClosed}, ` +
      `events ${JSON.stringify(r.market.events)}, dead letters ${JSON.stringify(r.market.deadLetters)}, ring overflow ${r.market.ringOverflow}, ticks stored ${f0(r.market.ticksStored)}`,
    `  orders: ${o.sent} sent, ${o.answered} answered, ${o.ok} accepted, risk 422: ${rejected || 'none'}, shed (429/503): ${counts(o.shed) || 'none'}; ack ${lat(r.latency.orderAck)}; ` +
      `POST → filled push ${lat(r.latency.orderFill)}; final states ${JSON.stringify(o.finalStates)}, ${o.notFinal} accepted without a final state`,
    `  yjs: ${f0(r.yjs.edits)} edits, ${f0(r.yjs.deliveries)} deliveries; propagation ${lat(r.latency.yjs)}; ${r.yjs.converged}/${r.yjs.rooms} rooms converged; reconnects ${r.yjs.reconnects}${r.yjs.closes.length ? ` (${r.yjs.closes.join(', ')})` : ''}`,
    `  generator event-loop lag p99 per window: median ${f1(r.latency.genLag.p50)}, max ${f1(r.latency.genLag.max)} ms; ` +
      `server ${r.backend}, ${r.bus} bus, setup ${r.setupSeconds.toFixed(1)} s, exit ${r.server.exit}, ${r.server.warnings.length} warnings logged`,
    ...(r.errorExamples.length ? [`  first errors: ${r.errorExamples.slice(0, 10).join(' | ')}`] : []),
    ...(r.server.warnings.length ? [`  first warnings: ${r.server.warnings.slice(0, 5).join(' | ')}`] : []),
  ].join('\n');
}
