import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { defaultLibraryPaths, ProfitConnector } from '../../native/profitdll.ts';
import { applyTrades, decodeFrame, FrameKind, type Quote, type Trade } from '../shared/market.ts';
import { backends, login, startTestServer, type TestServer } from '../testing/server.ts';
import { until } from '../testing/until.ts';

// A restart mid-session: the day's volume and trade count go on from where they were, plus what
// traded since, instead of starting again from the trades of the new process.
//
// The simulator's clock is set to 07:00 Brasília of today (now, before that), before B3's open.
// From 10:00 its live market resumes today's deterministic history, and its daily figures count
// that history plus the live trades of its own process only: a restarted simulator forgets what the first one
// traded live, which no exchange does, and the expectation below would not hold. Tape's side
// (the seed from stored trades, the exchange's figures raising it) is the same either way.

const HOUR_MS = 3_600_000;
const B3_MS = 3 * HOUR_MS;

/**
 * 07:00 Brasília of the B3 day now, or now when that is still to come: never ahead of the wall
 * clock, whose trades the server would refuse as out of range.
 */
function beforeTheOpen(now = Date.now()): Date {
  const day = Math.floor((now - B3_MS) / (24 * HOUR_MS)) * 24 * HOUR_MS;
  return new Date(Math.min(now, day + B3_MS + 7 * HOUR_MS));
}

const TICKERS = ['PETR4', 'VALE3'];

describe.each(backends())('session totals across a restart on %s', (backend) => {
  let t: TestServer;
  const clock = ProfitConnector.open(defaultLibraryPaths()).sim;
  beforeAll(async () => {
    clock?.setClock(beforeTheOpen());
    t = await startTestServer(backend, { TAPE_SIM_RATE: '200', TAPE_TICKERS: 'PETR4:B,VALE3:B' });
    await until(() => t.server.feed.status.connected, 'connector connected');
  });
  afterAll(async () => {
    await t?.close();
    clock?.setClock();
  });

  it('the quote after the restart is the quote before it with the trades since folded in', async () => {
    await until(
      () => TICKERS.every((x) => (t.server.market.quote(x)?.trades ?? 0) > 300),
      'a session traded',
    );
    const old = t.server.market;
    // Stops the feed and stores every trade it delivered; the restarted simulator trades on.
    t = await t.restart();
    const before = new Map(TICKERS.map((x) => [x, old.quote(x) as Quote]));

    // What traded since, as the restarted server has it: every trade after the last one before.
    const token = await login(t.url);
    const ws = new WebSocket(`${t.wsUrl}?token=${token}`);
    const since = new Map(TICKERS.map((x) => [x, [] as Trade[]]));
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return;
      const f = decodeFrame(new Uint8Array(data as Buffer));
      if (f.kind === FrameKind.trades) since.get(f.ticker)?.push(...f.trades);
    });
    await new Promise((r) => ws.once('open', r));
    ws.send(
      JSON.stringify({
        type: 'sub',
        channel: 'trades',
        tickers: TICKERS,
        since: Object.fromEntries(TICKERS.map((x) => [x, (before.get(x) as Quote).seq])),
      }),
    );
    await until(
      () => TICKERS.every((x) => t.server.market.lastSeq(x) > (before.get(x) as Quote).seq + 100),
      'trades after the restart',
      20_000,
    );
    const after = new Map(TICKERS.map((x) => [x, t.server.market.quote(x) as Quote]));
    await until(
      () => TICKERS.every((x) => (since.get(x)?.at(-1)?.seq ?? 0) >= (after.get(x) as Quote).seq),
      'the trades up to the quote received',
    );
    ws.close();

    for (const x of TICKERS) {
      const b = before.get(x) as Quote;
      const a = after.get(x) as Quote;
      const between = (since.get(x) as Trade[]).filter((tr) => tr.seq <= a.seq);
      expect(between.map((tr) => tr.seq)).toEqual(
        Array.from({ length: a.seq - b.seq }, (_, i) => b.seq + 1 + i),
      );
      // The same fold the server and the app use, from the quote before the restart.
      const expected = applyTrades(b, 'B', between) as Quote;
      const totals = (q: Quote) => ({
        ticker: q.ticker,
        seq: q.seq,
        volume: q.volume,
        trades: q.trades,
        high: q.high,
        low: q.low,
        last: q.last,
        tradeNumber: q.tradeNumber,
        time: q.time,
      });
      expect(totals(a)).toEqual(totals(expected));
      expect(a.volume).toBeGreaterThan(b.volume);
    }
  }, 60_000);
});
