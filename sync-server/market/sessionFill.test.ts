import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { NL } from '../../native/errors.ts';
import { defaultLibraryPaths, ProfitConnector } from '../../native/profitdll.ts';
import { SIM_LIBRARIES } from '../../native/testkit.ts';
import type { SimControls } from '../../native/types.ts';
import {
  type BackfillStatus,
  b3Day,
  decodeFrame,
  FrameKind,
  type ServerMessage,
  type Trade,
} from '../shared/market.ts';
import { metric } from '../testing/metrics.ts';
import { backends, login, startTestServer, type TestServer } from '../testing/server.ts';
import { until } from '../testing/until.ts';
import { sessionOpen } from './backfill.ts';

// The backfill through a real server, the simulator's history (native/sim/history.c) and the
// store: the session so far before each ticker goes live, with live trades arriving meanwhile; a
// restart that asks only what came after the last stored trade; a failed chunk asked again, then
// reported. The simulator's clock is set to a weekday afternoon, so its history of "today" does
// not depend on when the test runs. It runs on both simulator libraries: the current market-data
// calls (SetHistoryTradeCallbackV2, SetTradeCallbackV2) and the V1 fallback.

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** 14:30 in Brasília of the last weekday whose 14:30 has passed: the DLL's now for these tests. */
function weekdayAfternoon(): number {
  for (let day = b3Day(Date.now()); ; day--) {
    const weekday = (((day + 4) % 7) + 7) % 7; // 0 Sunday (day 0 was a Thursday)
    const at = day * DAY_MS + 3 * HOUR_MS + 14.5 * HOUR_MS;
    if (weekday !== 0 && weekday !== 6 && at < Date.now() - 60_000) return at;
  }
}

/** The simulator's controls, before a server has it (the library's state is the process's). */
function simulator(libraryPath: string): SimControls {
  const sim = ProfitConnector.open({ ...defaultLibraryPaths(), libraryPath }).sim;
  if (!sim) throw new Error('the simulator library is required here');
  return sim;
}

/** A /ws client of every trade and backfill message of its tickers, as they came. */
async function watch(t: TestServer, tickers: string[]) {
  const ws = new WebSocket(`${t.wsUrl}?token=${await login(t.url)}`);
  const trades = new Map(tickers.map((x) => [x, [] as Trade[]]));
  const statuses: BackfillStatus[] = [];
  const seqs: Record<string, number> = {};
  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      const f = decodeFrame(new Uint8Array(data as Buffer));
      if (f.kind === FrameKind.trades) trades.get(f.ticker)?.push(...f.trades);
      return;
    }
    const m = JSON.parse(String(data)) as ServerMessage;
    if (m.type === 'backfill') statuses.push(m);
    if (m.type === 'snapshot' && m.seqs) Object.assign(seqs, m.seqs);
  });
  await new Promise((r) => ws.once('open', r));
  return {
    ws,
    trades,
    statuses,
    sub: (since?: Record<string, number>) =>
      ws.send(JSON.stringify({ type: 'sub', channel: 'trades', tickers, ...(since ? { since } : {}) })),
    live: (ticker: string) => statuses.some((s) => s.ticker === ticker && s.state !== 'filling'),
  };
}

/** The checks every ticker's trades must pass: seqs from..to once each, each trade (number, time) once. */
function expectWhole(trades: readonly Trade[], from: number) {
  expect(trades.map((t) => t.seq)).toEqual(trades.map((_, i) => from + i));
  const keys = new Set(trades.map((t) => `${t.tradeNumber}@${t.time}`));
  expect(keys.size).toBe(trades.length);
}

const BASE_ENV = {
  TAPE_BACKFILL: 'on',
  TAPE_ROUTING: 'off',
  TAPE_SIM_RATE: '200',
  // The whole fill reaches the test's client in frames, not as conflated snapshots.
  TAPE_WS_SOFT_BYTES: String(256 * 1024 * 1024),
  TAPE_WS_HARD_BYTES: String(512 * 1024 * 1024),
};

const MATRIX = backends().flatMap((backend) => SIM_LIBRARIES.map((library) => ({ backend, ...library })));

describe.each(MATRIX)('the session backfill on $backend with the $api calls', ({ backend, libraryPath }) => {
  let t: TestServer;
  let sim: SimControls;
  const now = weekdayAfternoon();
  const ENV = { ...BASE_ENV, PROFITDLL_PATH: libraryPath };
  beforeAll(() => {
    sim = simulator(libraryPath);
    sim.setClock(new Date(now));
    sim.failHistory(0, NL.OK);
    // Dense enough that a replay from 1 reads the history from the database (the ring holds 10,000).
    sim.setHistoryTrades(30_000);
  });
  afterAll(async () => {
    await t?.close();
    sim?.setClock();
    sim?.setHistoryTrades(0);
  });

  it('fills the session so far before the ticker goes live: history then live, no seq or trade twice, no hole', async () => {
    t = await startTestServer(backend, { ...ENV, TAPE_TICKERS: 'PETR4:B,WINZ25:F' });
    const c = await watch(t, ['PETR4', 'WINZ25']);
    c.sub();
    await until(() => c.live('PETR4') && c.live('WINZ25'), 'both tickers live', 30_000);
    const seen = new Map<string, number>();
    for (const ticker of ['PETR4', 'WINZ25']) seen.set(ticker, c.trades.get(ticker)?.length ?? 0);
    await until(
      () => [...seen].every(([x, n]) => (c.trades.get(x)?.length ?? 0) > n + 50),
      'live trades after the fill',
      20_000,
    );
    c.ws.close();
    // Live trades came while the history was asked, and were held.
    expect(await metric(t.url, 'tape_market_events_total', 'outcome="held"')).toBeGreaterThan(0);

    for (const ticker of ['PETR4', 'WINZ25']) {
      const trades = c.trades.get(ticker) as Trade[];
      expectWhole(trades, 1);
      // The simulator numbers today's trades 1..N and the live ones on from N + 1: the client's
      // trade numbers run without a hole or a repeat too, history first.
      expect(trades.map((x) => x.tradeNumber)).toEqual(trades.map((_, i) => i + 1));
      const status = c.statuses.filter((s) => s.ticker === ticker);
      // The client subscribed while it filled: the status then, its progress, then live.
      expect(status.at(0)?.state).toBe('filling');
      expect(status.at(-1)).toMatchObject({ state: 'live', percent: 100 });
      const percents = status.map((s) => s.percent);
      expect(percents).toEqual([...percents].sort((a, b) => a - b));
      const { trades: added, from, to } = status.at(-1) as BackfillStatus;
      expect(from).toBe(sessionOpen(b3Day(now), ticker === 'WINZ25' ? 'F' : 'B'));
      expect(to).toBeGreaterThanOrEqual(now);
      // Of a 30,000-trade session from 10:00 to 18:00, what came by 14:30; all before the first live one.
      expect(added).toBeGreaterThan(15_000);
      expect(trades.slice(0, added).every((x) => x.time >= from && x.time <= to + 999)).toBe(true);
      expect(trades[added]?.time).toBeGreaterThanOrEqual(trades[added - 1]?.time as number);
      // A replay from 1 gives the same trades under the same seqs: the history's part from the
      // database (the ring holds the last 10,000), the rest from the ring.
      await t.server.writer.flush(10_000);
      const last = trades.at(-1) as Trade;
      const stored = await storedRange(t, ticker, 1, last.seq);
      expect(stored.map((x) => `${x.seq} ${x.tradeNumber} ${x.time} ${x.price}`)).toEqual(
        trades.map((x) => `${x.seq} ${x.tradeNumber} ${x.time} ${x.price}`),
      );
    }
  }, 90_000);

  it('after a restart asks only what came after the last stored trade, and numbers on without a hole', async () => {
    await until(() => (t.server.market.quote('PETR4')?.seq ?? 0) > 0, 'a quote');
    const before = t.server.market.lastSeq('PETR4');
    t = await t.restart();
    // The stored head: what the restarted server numbers on from (before its fill is numbered).
    const head = t.server.feed.tradeCapture.lastSeq('PETR4');
    const c = await watch(t, ['PETR4', 'WINZ25']);
    await until(() => t.server.feed.status.connected, 'connected again');
    c.sub({ PETR4: before });
    await until(() => c.live('PETR4') && c.live('WINZ25'), 'both tickers live again', 30_000);
    await until(
      () => t.server.market.lastSeq('PETR4') > before + 50,
      'live trades after the restart',
      20_000,
    );
    const lastSeq = t.server.market.lastSeq('PETR4');
    await until(() => (c.trades.get('PETR4')?.at(-1)?.seq ?? 0) >= lastSeq, 'the trades up to now');
    c.ws.close();
    const status = c.statuses.filter((s) => s.ticker === 'PETR4').at(-1) as BackfillStatus;
    expect(head).toBeGreaterThanOrEqual(before);
    const stored = await storedRange(t, 'PETR4', head, head);
    // Asked from the last stored trade, not from the open: the simulator sent a few seconds of
    // history (a stock's session is thousands of trades over 8 hours).
    expect(status.from).toBe(stored[0]?.time);
    expect(sim.stats().historyTrades).toBeLessThan(200);
    expectWhole(c.trades.get('PETR4') as Trade[], before + 1);
    await t.server.writer.flush(10_000);
    const all = await storedRange(t, 'PETR4', 1, lastSeq);
    expectWhole(all, 1);
  }, 90_000);

  it('asks a refused chunk again and fills it; a chunk that never answers is reported, and the ticker goes live', async () => {
    await t.close();
    const env = {
      ...ENV,
      TAPE_TICKERS: 'PETR4:B',
      TAPE_BACKFILL_STALL_MS: '300',
      TAPE_BACKFILL_RETRY_MS: '50',
    };
    sim.failHistory(2, NL.WAITING_SERVER);
    t = await startTestServer(backend, env);
    await until(() => t.server.market.backfillStatus('PETR4')?.state === 'live', 'PETR4 live', 30_000);
    expect(await metric(t.url, 'tape_market_events_total', 'outcome="retried"')).toBe(2);
    expect(t.server.market.backfillStatus('PETR4')?.trades).toBeGreaterThan(10_000);
    await t.close();

    sim.failHistory(100, NL.OK); // taken and never answered
    t = await startTestServer(backend, env);
    await until(() => t.server.market.backfillStatus('PETR4')?.state === 'failed', 'PETR4 failed', 30_000);
    sim.failHistory(0, NL.OK);
    const status = t.server.market.backfillStatus('PETR4') as BackfillStatus;
    expect(status).toMatchObject({ percent: 100, trades: 0 });
    expect(status.reason).toMatch(/no answer for 300 ms/);
    await t.server.deadLetters.flush();
    const letters = await t.server.deadLetters.store.list({ source: 'profitdll.history', limit: 10 });
    expect(letters).toMatchObject([
      { reason: 'history_failed', payload: { ticker: 'PETR4', exchange: 'B', attempts: 4 } },
    ]);
    expect(letters[0]?.detail).toMatch(/GetHistoryTrades\(PETR4, B\) .* no answer for 300 ms \(4 attempts\)/);
    // Live all the same: trades go on from seq 1.
    await until(() => t.server.market.lastSeq('PETR4') > 10, 'live trades');
  }, 90_000);
});

/** A ticker's trades from..to as a replay gives them (the ring, and the database before it). */
async function storedRange(t: TestServer, ticker: string, from: number, to: number): Promise<Trade[]> {
  const plan = await t.server.market.catchUp(ticker, from - 1);
  if (plan.kind !== 'replay') throw new Error(`no replay of ${ticker} from ${from}: ${plan.reason}`);
  return plan.frames
    .flatMap((f) => {
      const frame = decodeFrame(f);
      return frame.kind === FrameKind.trades ? frame.trades : [];
    })
    .filter((x) => x.seq <= to);
}
