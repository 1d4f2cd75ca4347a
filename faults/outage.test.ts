import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { FeedClient } from '../app/market/feedClient.ts';
import type { Trade } from '../sync-server/shared/market.ts';
import { CollabStore } from '../sync-server/store/collab.ts';
import { metric } from '../sync-server/testing/metrics.ts';
import {
  createWatchlist,
  login,
  type ServerProcess,
  spawnServer,
  startTestServer,
  type TestServer,
} from '../sync-server/testing/server.ts';
import { NodeWebSocket } from '../sync-server/testing/sockets.ts';
import { until } from '../sync-server/testing/until.ts';
import { startProxy, type TcpProxy } from './proxy.ts';

// Outages of the two shared services, simulated with a TCP proxy in front of each (never by
// stopping the services): PostgreSQL down for 10 s under a live feed, and Redis down between two
// processes serving the same shared watchlist. Figures go to the console for the report.

const DATABASE_URL = process.env.DATABASE_URL;
const REDIS_URL = process.env.REDIS_URL;
const OUTAGE_MS = 10_000;
// 6 tickers × 500 trades/s: a few thousand events per second.
const SIM_RATE = '500';

const target = (url: string, defaultPort: number): [string, number] => {
  const u = new URL(url);
  return [u.hostname, Number(u.port || defaultPort)];
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const report = (what: string, figures: Record<string, unknown>) =>
  console.log(`[outage] ${what}: ${JSON.stringify(figures)}`);

interface Login {
  readonly status: number;
  readonly error: string | undefined;
  readonly ms: number;
  /** The database was back by the time the answer came. */
  readonly restored: boolean;
}

/** A market client (the app's FeedClient) that records every trade it applied, per ticker. */
class Tape {
  readonly seqs = new Map<string, number[]>();
  readonly snapshots: string[] = [];
  total = 0;
  private readonly client: FeedClient;
  constructor(wsUrl: string, token: string) {
    this.client = new FeedClient({
      url: wsUrl,
      credentials: async () => ({ token }),
      WebSocket: NodeWebSocket,
      onTrades: (ticker, trades: Trade[]) => {
        const list = this.seqs.get(ticker) ?? [];
        this.seqs.set(ticker, list);
        for (const t of trades) list.push(t.seq);
        this.total += trades.length;
      },
      onSnapshot: (_quotes, reason) => this.snapshots.push(reason),
    });
    this.client.start();
  }
  get gaps(): number {
    return this.client.gapsDetected;
  }
  /** Tickers whose recorded sequence is not one contiguous run. */
  broken(): string[] {
    return [...this.seqs]
      .filter(([, s]) => s.some((x, i) => i > 0 && x !== (s[i - 1] as number) + 1))
      .map(([k]) => k);
  }
  stop() {
    this.client.stop();
  }
}

describe.skipIf(!DATABASE_URL)('PostgreSQL down for 10 s under a live feed', () => {
  // The simulator is process-wide: each case closes its server before the next starts.
  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function setup(env: Record<string, string>) {
    const proxy = await startProxy(...target(DATABASE_URL as string, 5432));
    cleanup.push(() => proxy.close());
    const t = await startTestServer(
      'postgres',
      { TAPE_SIM_RATE: SIM_RATE, ...env },
      { route: (u) => proxy.urlFor(u) },
    );
    cleanup.push(() => t.close());
    const direct = postgres(t.databaseUrl as string, { max: 2, onnotice: () => {} });
    cleanup.unshift(() => direct.end({ timeout: 5 }));
    await until(() => t.server.feed.status.connected, 'the simulator connected', 30_000);
    const token = await login(t.url);
    const tape = new Tape(t.wsUrl, token);
    cleanup.push(() => tape.stop());
    // Live, and the writer keeping up, before the cut.
    await until(
      () => tape.total > 3_000 && t.server.writer.stats.written > 3_000,
      'ticks flowing and stored',
      30_000,
    );
    return { proxy, t, direct, token, tape };
  }

  /** Runs the outage; meanwhile checks what REST does and samples the metrics. */
  async function outage(proxy: TcpProxy, t: TestServer, tape: Tape, token: string) {
    const before = tape.total;
    proxy.cut();
    const cutAt = Date.now();
    // Signing in needs the database: a prompt 5xx, not a hang and not a crash; at the cut and
    // again later, when postgres.js has been failing to reconnect for a while.
    const tryLogin = async () => {
      const started = Date.now();
      const res = await fetch(`${t.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: 'not-the-password' }),
        signal: AbortSignal.timeout(40_000),
      });
      const body = (await res.json()) as { error?: string };
      const answer: Login = {
        status: res.status,
        error: body.error,
        ms: Date.now() - started,
        restored: !proxy.isCut,
      };
      return answer;
    };
    const loginAtCut = await tryLogin();
    const loginLater = sleep(6_000).then(tryLogin);
    // What needs no database still answers: liveness, and the quotes kept in memory.
    const health = (await fetch(`${t.url}/healthz`)).status;
    const ready = await fetch(`${t.url}/readyz`);
    const readyz = { status: ready.status, body: await ready.json() };
    const quotes = await fetch(`${t.url}/api/v1/market/quotes`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    // An answer already on its way at the cut (in the socket buffers) may still land: count
    // writes from half a second after it.
    await sleep(Math.max(0, 500 - (Date.now() - cutAt)));
    const writtenAfterCut = t.server.writer.stats.written;
    // Trades keep arriving, second by second.
    const perSecond: number[] = [];
    let last = tape.total;
    while (Date.now() - cutAt < OUTAGE_MS - 1_000) {
      await sleep(1_000);
      perSecond.push(tape.total - last);
      last = tape.total;
    }
    const during = {
      buffered: await metric(t.url, 'tape_tick_writer_buffered_rows'),
      retries: await metric(t.url, 'tape_tick_writer_retries_total'),
      databaseUp: await metric(t.url, 'tape_tick_writer_database_up'),
      overflowLetters: await metric(t.url, 'tape_dead_letters_total', 'reason="write_buffer_overflow"'),
      writtenDuring: t.server.writer.stats.written - writtenAfterCut,
    };
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - cutAt)));
    const delivered = tape.total - before;
    // What the dead-letter queue could only put on disk meanwhile.
    const spill = join(t.config.dataDir, 'dead-letters.spill.ndjson');
    const spilledTrades = existsSync(spill)
      ? readFileSync(spill, 'utf8')
          .split('\n')
          .filter(Boolean)
          .reduce(
            (n, l) =>
              n + ((JSON.parse(l) as { payload?: { trades?: unknown[] } }).payload?.trades?.length ?? 0),
            0,
          )
      : 0;
    const writtenAtRestore = t.server.writer.stats.written;
    proxy.restore();
    const restoredAt = Date.now();
    const logins = [loginAtCut, await loginLater];
    return {
      restoredAt,
      writtenAtRestore,
      delivered,
      perSecond,
      logins,
      health,
      readyz,
      quotes: quotes.status,
      during,
      spilledTrades,
    };
  }

  function expectServedThrough(o: Awaited<ReturnType<typeof outage>>, tape: Tape) {
    // At the cut: at once, a 503. Later on, postgres.js waits out its reconnect backoff (at most
    // 2 s here) before it tries, so a request can wait; it must still end, and with a 503 while
    // the database is away (after the restore it may just succeed or be refused: 401 here).
    const [atCut, later] = o.logins as [Login, Login];
    expect(atCut).toMatchObject({ restored: false });
    expect(atCut.status).toBe(503);
    expect(atCut.ms).toBeLessThan(15_000);
    expect(later.ms).toBeLessThan(35_000);
    if (!later.restored) expect(later.status).toBe(503);
    else expect([401, 503]).toContain(later.status);
    expect(o.health).toBe(200);
    expect(o.readyz).toMatchObject({ status: 503, body: { checks: { database: false } } });
    expect(o.quotes).toBe(200);
    // At a few thousand a second: far more than a trickle, in every second of the outage.
    expect(o.delivered).toBeGreaterThan(5_000);
    expect(Math.min(...o.perSecond)).toBeGreaterThan(0);
    expect(tape.gaps).toBe(0);
    expect(tape.snapshots.filter((r) => r !== 'subscribe')).toEqual([]);
    expect(tape.broken()).toEqual([]);
    expect(o.during.databaseUp).toBe(0);
    expect(o.during.retries).toBeGreaterThan(0);
  }

  /** (ticker, seq) → how many times it is in `ticks`, and in store.ticks dead letters. */
  async function whereabouts(direct: postgres.Sql, tape: Tape) {
    const stored = new Map<string, number>();
    const lettered = new Map<string, number>();
    for (const [ticker, seqs] of tape.seqs) {
      const lo = seqs[0] as number;
      const hi = seqs[seqs.length - 1] as number;
      for (const r of await direct<{ seq: string; n: string }[]>`
          select seq, count(*) as n from ticks where ticker = ${ticker} and seq between ${lo} and ${hi} group by seq`)
        stored.set(`${ticker}:${r.seq}`, Number(r.n));
      for (const r of await direct<{ seq: string; n: string }[]>`
          select (t->>'seq')::bigint as seq, count(*) as n
          from dead_letters, jsonb_array_elements(payload->'trades') t
          where source = 'store.ticks' and t->>'ticker' = ${ticker}
            and (t->>'seq')::bigint between ${lo} and ${hi}
          group by 1`)
        lettered.set(`${ticker}:${r.seq}`, Number(r.n));
    }
    const seen = [...tape.seqs].flatMap(([ticker, seqs]) => seqs.map((s) => `${ticker}:${s}`));
    const copies = (k: string) => (stored.get(k) ?? 0) + (lettered.get(k) ?? 0);
    if (process.env.OUTAGE_DEBUG) console.log('LOST', seen.filter((k) => copies(k) === 0).join(' '));
    return {
      seen: seen.length,
      stored: seen.filter((k) => stored.get(k) === 1).length,
      deadLettered: seen.filter((k) => lettered.get(k) === 1).length,
      twice: seen.filter((k) => copies(k) > 1).length,
      lost: seen.filter((k) => copies(k) === 0).length,
    };
  }

  /** After the restore: the backlog written, then a little live traffic, then everything. */
  async function recover(t: TestServer, tape: Tape, o: Awaited<ReturnType<typeof outage>>) {
    await t.server.writer.flush(90_000);
    const backlog = {
      ms: Date.now() - o.restoredAt,
      rows: t.server.writer.stats.written - o.writtenAtRestore,
    };
    await sleep(1_000);
    tape.stop();
    await t.server.writer.flush(60_000);
    return backlog;
  }

  it('keeps the feed live, buffers and retries, then stores every tick exactly once', async () => {
    const { proxy, t, direct, token, tape } = await setup({});
    const o = await outage(proxy, t, tape, token);
    const backlog = await recover(t, tape, o);
    const w = await whereabouts(direct, tape);
    const dups = await direct`select ticker, seq from ticks group by 1, 2 having count(*) > 1 limit 5`;
    // Up to the last trade the client saw (what the flush covered), 1..that seq without a hole.
    const holes: string[] = [];
    for (const [ticker, seqs] of tape.seqs) {
      const hi = seqs[seqs.length - 1] as number;
      const [row] = await direct<{ n: string }[]>`
        select count(distinct seq) as n from ticks where ticker = ${ticker} and seq between 1 and ${hi}`;
      if (Number(row?.n) !== hi) holes.push(`${ticker}: ${row?.n} of ${hi}`);
    }
    report('database down, default buffer', {
      deliveredDuringOutage: o.delivered,
      perSecond: o.perSecond,
      bufferedAtEndOfOutage: o.during.buffered,
      retriesDuringOutage: o.during.retries,
      writtenAfterRestore: backlog,
      logins: o.logins,
      ...w,
      writer: t.server.writer.stats,
    });
    expectServedThrough(o, tape);
    expect(o.during.buffered).toBeGreaterThan(5_000);
    expect(o.during.overflowLetters).toBe(0);
    expect(o.during.writtenDuring).toBe(0);
    expect(backlog.rows).toBeGreaterThanOrEqual(o.during.buffered);
    expect(w).toMatchObject({ stored: w.seen, deadLettered: 0, twice: 0, lost: 0 });
    expect(dups).toEqual([]);
    expect(holes).toEqual([]);
    expect(t.server.writer.stats.deadLettered).toBe(0);
  });

  it('with a small buffer, every tick is stored or dead-lettered (spilled to disk meanwhile), none lost', async () => {
    const { proxy, t, direct, token, tape } = await setup({ TAPE_TICK_BUFFER_ROWS: '5000' });
    const spill = join(t.config.dataDir, 'dead-letters.spill.ndjson');
    const o = await outage(proxy, t, tape, token);
    // The spill moves into the table by itself once the database answers.
    await until(() => !existsSync(spill) && t.server.deadLetters.spilled === 0, 'spill moved in', 30_000);
    const spillMovedMs = Date.now() - o.restoredAt;
    const backlog = await recover(t, tape, o);
    await t.server.deadLetters.flush();
    const w = await whereabouts(direct, tape);
    const [letters] = await direct<{ n: string }[]>`
      select count(*) as n from dead_letters where source = 'store.ticks' and reason = 'write_buffer_overflow'`;
    report('database down, 5,000-row buffer', {
      deliveredDuringOutage: o.delivered,
      bufferedAtEndOfOutage: o.during.buffered,
      retriesDuringOutage: o.during.retries,
      spilledTradesAtRestore: o.spilledTrades,
      spillMovedMs,
      overflowLetters: Number(letters?.n),
      writtenAfterRestore: backlog,
      logins: o.logins,
      ...w,
      writer: t.server.writer.stats,
    });
    expectServedThrough(o, tape);
    expect(o.during.buffered).toBeLessThanOrEqual(5_000);
    expect(o.during.overflowLetters).toBeGreaterThan(0);
    // The overflow went to the dead-letter queue, which could only spill it to disk.
    expect(o.spilledTrades).toBeGreaterThan(5_000);
    expect(w.twice).toBe(0);
    expect(w.lost).toBe(0);
    expect(w.stored + w.deadLettered).toBe(w.seen);
    expect(w.deadLettered).toBeGreaterThan(5_000);
    expect(Number(letters?.n)).toBeGreaterThan(0);
  });
});

/** The stock provider, as the app uses it. */
function provider(port: number, token: string, room: string) {
  return new WebsocketProvider(`ws://127.0.0.1:${port}/yjs`, room, new Y.Doc(), {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    params: { token },
    disableBc: true,
    maxBackoffTime: 500,
  });
}
const tickers = (p: WebsocketProvider) => p.doc.getArray<string>('tickers').toArray();
const has = (p: WebsocketProvider, ...items: string[]) => items.every((x) => tickers(p).includes(x));
const stateOf = (p: WebsocketProvider) =>
  JSON.stringify([[...tickers(p)].sort(), [...p.doc.getMap('notes').entries()].sort()]);
const converged = (ps: WebsocketProvider[]) =>
  ps.every((p) => stateOf(p) === stateOf(ps[0] as WebsocketProvider));

describe.skipIf(!DATABASE_URL || !REDIS_URL)('Redis down between two processes', () => {
  // One proxy per process: cutting both is Redis down; cutting one is that process cut off.
  const proxies: TcpProxy[] = [];
  let a: TestServer | undefined;
  let b: ServerProcess | undefined;
  const providers: WebsocketProvider[] = [];
  const tapes: Tape[] = [];
  const ends: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const p of providers) p.destroy();
    for (const tape of tapes) tape.stop();
    b?.child.kill('SIGTERM');
    await b?.exited;
    await a?.close();
    for (const p of proxies) await p.close();
    for (const end of ends) await end();
  });

  it('each process serves its own clients meanwhile; fan-out and every edit come back with it', async () => {
    const [toA, toB] = await Promise.all([0, 1].map(() => startProxy(...target(REDIS_URL as string, 6379))));
    const proxyA = toA as TcpProxy;
    const proxyB = toB as TcpProxy;
    proxies.push(proxyA, proxyB);
    a = await startTestServer('postgres', {
      REDIS_URL: proxyA.urlFor(REDIS_URL as string),
      TAPE_SIM_RATE: '100',
    });
    b = await spawnServer({
      DATABASE_URL: a.databaseUrl as string,
      REDIS_URL: proxyB.urlFor(REDIS_URL as string),
      TAPE_SIM_RATE: '100',
      TAPE_DATA_DIR: mkdtempSync(join(tmpdir(), 'tape-outage-b-')),
    });
    const A = a;
    const B = b;
    const token = await login(A.url);
    const watchlist = (name: string) => createWatchlist(A.url, token, name);
    const open = (port: number, room: string) => {
      const p = provider(port, token, room);
      providers.push(p);
      return p;
    };
    const push = (p: WebsocketProvider, item: string) => p.doc.getArray<string>('tickers').push([item]);
    const store = postgres(A.databaseUrl as string, { max: 1, onnotice: () => {} });
    ends.push(() => store.end({ timeout: 5 }));
    const storedDoc = async (docId: number) => {
      const doc = new Y.Doc();
      for (const u of (await new CollabStore(store).load(docId)).updates) Y.applyUpdate(doc, u);
      return doc.getArray<string>('tickers').toArray();
    };
    const bLog = (msg: string) => B.output().split(msg).length - 1;

    const { id, room } = await watchlist('Outage desk');
    const a1 = open(A.server.port, room);
    const a2 = open(A.server.port, room);
    const b1 = open(B.port, room);
    const everyone = [a1, a2, b1];
    await until(() => everyone.every((p) => p.synced), 'all synced', 20_000);
    const onA = new Tape(A.wsUrl, token);
    const onB = new Tape(`ws://127.0.0.1:${B.port}/ws`, token);
    tapes.push(onA, onB);
    push(a1, 'BEFORE_A');
    push(b1, 'BEFORE_B');
    await until(
      () => everyone.every((p) => has(p, 'BEFORE_A', 'BEFORE_B')),
      'fan-out before the cut',
      20_000,
    );

    // 1. Redis down for both.
    proxyA.cut();
    proxyB.cut();
    await until(() => !A.server.collab.bus.connected, 'A sees the bus down', 20_000);
    await until(() => bLog('redis bus down') === 1, 'B logs the bus down', 20_000);
    const marketAtCut = [onA.total, onB.total];

    // A's two clients still converge with each other; B applies and stores its own client's edits.
    push(a1, 'OUT_A1');
    push(a2, 'OUT_A2');
    a2.doc.getMap('notes').set('OUT_A2', 'written on A while Redis was down');
    push(b1, 'OUT_B1');
    b1.doc.getMap('notes').set('OUT_B1', 'written on B while Redis was down');
    await until(
      () => has(a1, 'OUT_A1', 'OUT_A2') && has(a2, 'OUT_A1', 'OUT_A2') && converged([a1, a2]),
      'A converges',
      20_000,
    );
    await until(async () => (await storedDoc(id)).includes('OUT_B1'), "B's edit stored", 20_000);
    expect(b1.doc.getMap('notes').get('OUT_B1')).toBe('written on B while Redis was down');
    // Nothing crosses meanwhile: there is no path between the processes.
    expect(has(b1, 'OUT_A1')).toBe(false);
    expect(has(a1, 'OUT_B1')).toBe(false);

    // A room first opened during the outage opens at once on both, without waiting for Redis.
    const late = await watchlist('Opened during the outage');
    const lateB = open(B.port, late.room);
    const lateA = open(A.server.port, late.room);
    await until(() => lateA.synced && lateB.synced, 'a new room opens on both during the outage', 20_000);
    push(lateB, 'LATE_B');
    push(lateA, 'LATE_A');
    await until(() => has(lateA, 'LATE_A') && has(lateB, 'LATE_B'), 'local edits in the new room', 20_000);

    await sleep(3_000);
    const marketDuring = [onA.total - (marketAtCut[0] as number), onB.total - (marketAtCut[1] as number)];
    expect(marketDuring[0]).toBeGreaterThan(200);
    expect(marketDuring[1]).toBeGreaterThan(200);
    expect(B.child.exitCode).toBeNull();
    expect((await fetch(`${A.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${B.url}/healthz`)).status).toBe(200);

    proxyA.restore();
    proxyB.restore();
    const restoredAt = Date.now();
    await until(
      () =>
        everyone.every((p) => has(p, 'BEFORE_A', 'BEFORE_B', 'OUT_A1', 'OUT_A2', 'OUT_B1')) &&
        converged(everyone),
      'every outage edit on every client',
      30_000,
    );
    const convergedMs = Date.now() - restoredAt;
    await until(
      () => has(lateA, 'LATE_A', 'LATE_B') && has(lateB, 'LATE_A', 'LATE_B'),
      'the late room converges',
      30_000,
    );
    const lateConvergedMs = Date.now() - restoredAt;
    expect(a1.doc.getMap('notes').get('OUT_B1')).toBe('written on B while Redis was down');
    expect(b1.doc.getMap('notes').get('OUT_A2')).toBe('written on A while Redis was down');
    await until(
      () => A.server.collab.bus.connected && bLog('redis bus back') === 1,
      'both buses back',
      20_000,
    );

    // Fan-out is live again, both ways.
    let fanOutAt = Date.now();
    push(b1, 'AFTER_B');
    push(a2, 'AFTER_A');
    await until(() => everyone.every((p) => has(p, 'AFTER_A', 'AFTER_B')), 'fan-out after', 20_000);
    const fanOutMs = Date.now() - fanOutAt;

    // 2. Only B cut off: A never loses the bus, so never reloads; B's edits meanwhile reach A's
    // clients only because B publishes its rooms' state when it is back.
    proxyB.cut();
    await until(() => bLog('redis bus down') === 2, 'B logs the bus down again', 20_000);
    push(b1, 'ALONE_B');
    push(a1, 'ALONE_A');
    await until(() => has(a2, 'ALONE_A') && has(b1, 'ALONE_B'), 'each side applies its own', 20_000);
    await until(async () => (await storedDoc(id)).includes('ALONE_B'), "B's edit stored", 20_000);
    await sleep(500);
    expect(has(a1, 'ALONE_B') || has(b1, 'ALONE_A')).toBe(false);
    expect(A.server.collab.bus.connected).toBe(true);
    proxyB.restore();
    const partialAt = Date.now();
    await until(
      () => everyone.every((p) => has(p, 'ALONE_A', 'ALONE_B')) && converged(everyone),
      'B cut off alone: converged after',
      30_000,
    );
    const partialConvergedMs = Date.now() - partialAt;
    fanOutAt = Date.now();
    push(b1, 'LAST_B');
    await until(() => everyone.every((p) => has(p, 'LAST_B')), 'fan-out after B is back', 20_000);
    const partialFanOutMs = Date.now() - fanOutAt;

    // 3. B partitioned without a reset: its connections to Redis stay open and carry nothing,
    // so node-redis sees nothing wrong. B must find out by itself (its heartbeat through Redis
    // stops coming back), well before the partition ends.
    proxyB.cut('stall');
    const stallAt = Date.now();
    push(b1, 'SILENT_EARLY_B'); // published into the void before B knows
    await until(
      () => bLog('no heartbeat came back') === 1 && bLog('redis bus down') === 3,
      'B notices the silent partition',
      20_000,
    );
    const stallDetectedMs = Date.now() - stallAt;
    push(b1, 'SILENT_B');
    push(a1, 'SILENT_A');
    await until(() => has(a2, 'SILENT_A') && has(b1, 'SILENT_B'), 'each side applies its own', 20_000);
    await until(
      async () => (await storedDoc(id)).includes('SILENT_B'),
      "B's edit stored during the partition",
      20_000,
    );
    expect(has(b1, 'SILENT_A') || has(a1, 'SILENT_EARLY_B')).toBe(false);
    proxyB.restore();
    const healedAt = Date.now();
    await until(
      () => everyone.every((p) => has(p, 'SILENT_EARLY_B', 'SILENT_A', 'SILENT_B')) && converged(everyone),
      'converged after the partition',
      30_000,
    );
    const stallConvergedMs = Date.now() - healedAt;
    await until(() => bLog('redis bus back') === 3, 'B back after the partition', 20_000);
    push(b1, 'END_B');
    await until(() => everyone.every((p) => has(p, 'END_B')), 'fan-out after the partition', 20_000);

    expect(converged(everyone)).toBe(true);
    expect((await storedDoc(id)).sort()).toEqual([...tickers(a1)].sort());
    expect(onA.broken()).toEqual([]);
    expect(onB.broken()).toEqual([]);
    report('redis down', {
      outageEdits: { onA: 3, onB: 2, lateRoom: 2, bCutOffAlone: 2 },
      convergedMsAfterRestore: convergedMs,
      lateRoomConvergedMs: lateConvergedMs,
      fanOutMsAfter: fanOutMs,
      bAloneConvergedMs: partialConvergedMs,
      bAloneFanOutMs: partialFanOutMs,
      silentPartition: { detectedMs: stallDetectedMs, convergedMsAfterHeal: stallConvergedMs },
      marketDuringOutage: { a: marketDuring[0], b: marketDuring[1] },
      proxies: [proxyA.stats(), proxyB.stats()],
      bLog: B.output()
        .split('\n')
        .filter((l) => l.includes('redis bus'))
        .map((l) => JSON.parse(l).msg)
        .filter((m, i, all) => all.indexOf(m) === i),
    });
  });
});
