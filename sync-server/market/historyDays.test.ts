import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NL } from '../../native/errors.ts';
import { defaultLibraryPaths, ProfitConnector } from '../../native/profitdll.ts';
import { createLogger } from '../log.ts';
import { createMetrics } from '../metrics.ts';
import { type Instrument, instrumentFor } from '../shared/instruments.ts';
import { B3_UTC_OFFSET_MS, b3Day, type Trade } from '../shared/market.ts';
import type { Database } from '../store/db.ts';
import { testBackends } from '../store/testing.ts';
import { TickStore } from '../store/ticks.ts';
import { sampleTrade } from '../testing/market.ts';
import type { DeadLetter } from './feed.ts';
import { type DayReport, DaysFill, type FillDaysResult, historyFeed } from './historyDays.ts';

// Past days into the store as `npm run backfill` does them, through the real simulator and the
// store: a day per request, weekends not asked, a day the server stored in part completed
// without a trade twice, numbered below the live sequence, a rerun that asks nothing, and a day
// that fails reported and not recorded, then filled by the next run.

const DAY_MS = 86_400_000;
const MONDAY = b3Day(Date.UTC(2025, 5, 2, 15)); // 02/06/2025
const PETR4 = instrumentFor('PETR4', 'B') as Instrument;
const VALE3 = instrumentFor('VALE3', 'B') as Instrument;
const dayStart = (day: number) => day * DAY_MS - B3_UTC_OFFSET_MS;

/** One run of the CLI's fill: log in, ask the days, log out. */
async function fillDays(
  store: TickStore,
  instrument: Instrument,
  firstDay: number,
  lastDay: number,
): Promise<FillDaysResult & { planned: number[]; letters: DeadLetter[]; asks: number }> {
  const connector = ProfitConnector.open(defaultLibraryPaths());
  connector.sim?.setRate(0);
  let planned: number[] = [];
  const letters: DeadLetter[] = [];
  const days = new DaysFill(connector, {
    instrument,
    firstDay,
    lastDay,
    store,
    deadLetter: (l) => letters.push(l),
    planned: (d) => {
      planned = [...d];
    },
    fill: { stallMs: 5_000, backoffMs: 10 },
  });
  const feed = historyFeed(
    connector,
    { key: 'k', user: 'u', password: 'p' },
    days,
    createLogger('silent'),
    createMetrics(),
  );
  try {
    await feed.start();
    const result = await days.done;
    return { ...result, planned, letters, asks: connector.sim?.stats().progress ?? 0 };
  } finally {
    await feed.stop();
  }
}

describe.each(testBackends())('backfill of past days on $name', (backend) => {
  let db: Database;
  let store: TickStore;
  beforeAll(async () => {
    db = await backend.open();
    store = new TickStore(db);
  });
  afterAll(() => db?.close());

  const storedOf = async (ticker: string) => store.range(ticker, -1e12, 1e12);

  it('asks each weekday once, completes a day stored in part, and numbers it all below the live sequence', async () => {
    // The server traded the first 100 trades of Monday live: seqs 1..100.
    const live = Array.from({ length: 100 }, (_, i) =>
      sampleTrade(i + 1, { tradeNumber: i + 1, time: dayStart(MONDAY) + 10 * 3_600_000 + i * 1_000 }),
    );
    await store.insert(live);
    const run = await fillDays(store, PETR4, MONDAY, MONDAY + 6);
    expect(run.planned).toEqual([0, 1, 2, 3, 4].map((d) => MONDAY + d)); // Saturday and Sunday not asked
    expect(run.days.map((d: DayReport) => d.failure)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    // The simulator's Monday is 5,450 trades (native/history.test.ts): 100 were stored already.
    expect(run.days[0]).toMatchObject({ day: MONDAY, trades: 5_450, added: 5_350 });
    expect(run.letters).toEqual([]);

    const all = await storedOf('PETR4');
    const byDay = new Map<number, Trade[]>();
    for (const t of all) byDay.set(b3Day(t.time), [...(byDay.get(b3Day(t.time)) ?? []), t]);
    expect([...byDay.keys()].sort()).toEqual(run.planned);
    for (const [day, trades] of byDay) {
      const report = run.days.find((d) => d.day === day) as DayReport;
      expect(trades).toHaveLength(report.trades);
      // Each trade number of the day once: the day is 1..N.
      expect(trades.map((t) => t.tradeNumber).sort((a, b) => a - b)).toEqual(trades.map((_, i) => i + 1));
      // What the CLI added is below seq 1, in the day's order; the live seqs are as they were.
      const added = trades.filter((t) => t.seq <= 0).sort((a, b) => a.seq - b.seq);
      expect(added).toHaveLength(report.added);
      expect(added.map((t) => t.time)).toEqual([...added.map((t) => t.time)].sort((a, b) => a - b));
    }
    const seqs = all.map((t) => t.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(all.filter((t) => t.seq > 0).map((t) => t.seq)).toEqual(live.map((t) => t.seq));
    expect((await store.lastSeqs()).get('PETR4')).toBe(100);
  });

  it('asks nothing again on a rerun', async () => {
    const before = (await storedOf('PETR4')).length;
    const run = await fillDays(store, PETR4, MONDAY, MONDAY + 6);
    expect(run.planned).toEqual([]);
    expect(run.skipped).toEqual({ filled: 5, weekend: 2 });
    expect(run.asks).toBe(0);
    expect(await storedOf('PETR4')).toHaveLength(before);
  });

  it('reports a day the DLL refuses, records it not, and the next run fills it', async () => {
    const sim = ProfitConnector.open(defaultLibraryPaths()).sim;
    sim?.failHistory(1, NL.INVALID_TICKER); // a code asking again cannot mend: failed at once
    const failed = await fillDays(store, VALE3, MONDAY, MONDAY + 1);
    expect(failed.days.map((d) => [d.day, d.failure?.code])).toEqual([
      [MONDAY, 'NL_INVALID_TICKER'],
      [MONDAY + 1, undefined],
    ]);
    expect(await store.historyDays('VALE3')).toEqual(new Set([MONDAY + 1]));
    const again = await fillDays(store, VALE3, MONDAY, MONDAY + 1);
    expect(again.planned).toEqual([MONDAY]);
    expect(again.days[0]?.failure).toBeUndefined();
    expect(await store.historyDays('VALE3')).toEqual(new Set([MONDAY, MONDAY + 1]));
  });
});
