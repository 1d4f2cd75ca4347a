import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { defaultLibraryPaths, ProfitConnector } from '../native/profitdll.ts';
import { ConfigError, loadConfig, StartupError } from '../sync-server/config.ts';
import type { NewDeadLetter } from '../sync-server/deadLetters/queue.ts';
import { createLogger } from '../sync-server/log.ts';
import { type DayReport, DaysFill, historyFeed } from '../sync-server/market/historyDays.ts';
import { createMetrics } from '../sync-server/metrics.ts';
import { progressBar } from '../sync-server/rag/progress.ts';
import { type Instrument, instrumentFor } from '../sync-server/shared/instruments.ts';
import { b3Day } from '../sync-server/shared/market.ts';
import { lockDataDir } from '../sync-server/store/dataDirLock.ts';
import { openDatabase } from '../sync-server/store/db.ts';
import { DeadLetterStore } from '../sync-server/store/deadLetters.ts';
import { migrate } from '../sync-server/store/migrate.ts';
import { TickStore } from '../sync-server/store/ticks.ts';

// `npm run backfill -- --ticker PETR4 --from DD/MM/YYYY [--to DD/MM/YYYY] [--again]`: earlier
// days of a ticker's history from the DLL into the same store as the server (TAPE_DATA_DIR's
// PGlite, or DATABASE_URL), one GetHistoryTrades a day, with a progress bar on stderr. A trade
// the day already holds is not stored again, and a day stored whole is not asked again: a rerun
// goes on where the last one stopped. Today is the server's: it fills the session when it starts.
// Exit 0 when every day was stored, 1 when one failed (run it again), 2 on bad arguments or
// settings, or a data directory another process holds (stop the server first on PGlite).

const DAY_MS = 86_400_000;
/** The longest run one command asks for: the 400 days TimescaleDB keeps. */
export const MAX_DAYS = 400;

export class ArgsError extends Error {
  override name = 'ArgsError';
}

export const USAGE =
  'usage: npm run backfill -- --ticker PETR4 --from DD/MM/YYYY [--to DD/MM/YYYY] [--again]\n' +
  '  --to defaults to yesterday (B3); --again asks days already filled too';

/** A calendar day typed as DD/MM/YYYY (Brasília), as a B3 day number; ArgsError for anything else. */
export function parseB3Date(text: string, flag = 'date'): number {
  const m = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(text);
  if (!m)
    throw new ArgsError(`${flag}: ${JSON.stringify(text)} is not a date as DD/MM/YYYY (e.g. 02/06/2025)`);
  const [d, mo, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1970) throw new ArgsError(`${flag}: ${text} is before 1970, which the DLL does not serve`);
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  // Date.UTC rolls 31/02 over into March: not what was typed.
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d)
    throw new ArgsError(`${flag}: ${text} is not a day of the calendar`);
  return ms / DAY_MS;
}

/** A B3 day number as DD/MM/YYYY. */
export function formatB3Date(day: number): string {
  const d = new Date(day * DAY_MS);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCDate())}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCFullYear(), 4)}`;
}

export interface BackfillArgs {
  readonly instrument: Instrument;
  readonly firstDay: number;
  readonly lastDay: number;
  readonly again: boolean;
}

/**
 * The command line, checked: a ticker Tape knows the rules of (its exchange follows from it), a
 * first day, a last day (default yesterday) before `today` and not before the first, at most
 * MAX_DAYS days. ArgsError names what is wrong.
 */
export function parseArgs(argv: readonly string[], today: number): BackfillArgs {
  const values = new Map<string, string>();
  let again = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--again') {
      again = true;
      continue;
    }
    if (arg !== '--ticker' && arg !== '--from' && arg !== '--to')
      throw new ArgsError(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
    if (values.has(arg)) throw new ArgsError(`${arg} is given twice`);
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) throw new ArgsError(`${arg} needs a value\n${USAGE}`);
    values.set(arg, value);
    i++;
  }
  const ticker = values.get('--ticker');
  if (ticker === undefined) throw new ArgsError(`--ticker is required\n${USAGE}`);
  const instrument = instrumentFor(ticker, 'B') ?? instrumentFor(ticker, 'F');
  if (!instrument)
    throw new ArgsError(
      `--ticker: ${JSON.stringify(ticker)} is not a B3 ticker Tape knows (a stock such as PETR4, or WIN, WDO, IND, DOL with the month letter and year, such as WINZ25)`,
    );
  const from = values.get('--from');
  if (from === undefined) throw new ArgsError(`--from is required\n${USAGE}`);
  const firstDay = parseB3Date(from, '--from');
  const to = values.get('--to');
  const lastDay = to === undefined ? today - 1 : parseB3Date(to, '--to');
  if (lastDay >= today)
    throw new ArgsError(
      `--to: ${formatB3Date(lastDay)} is not before today (${formatB3Date(today)}): today's history is the server's, which fills the session when it starts; give days up to ${formatB3Date(today - 1)}`,
    );
  if (firstDay > lastDay)
    throw new ArgsError(`--from ${formatB3Date(firstDay)} is after --to ${formatB3Date(lastDay)}`);
  if (lastDay - firstDay + 1 > MAX_DAYS)
    throw new ArgsError(`${lastDay - firstDay + 1} days asked: at most ${MAX_DAYS} at a time`);
  return { instrument, firstDay, lastDay, again };
}

const fmt = (n: number) => Math.round(n).toLocaleString('pt-BR');

/** What a day's line says on the progress bar and in the summary. */
export function describeDay(r: DayReport): string {
  const date = formatB3Date(r.day);
  if (r.failure) return `${date} FAILED (${r.failure.reason}; ${r.failure.attempts} attempts): run again`;
  const rate = r.ms > 0 ? `, ${fmt((r.trades / r.ms) * 1000)} trades/s` : '';
  return `${date} ${fmt(r.trades)} trades, ${fmt(r.added)} new${rate}`;
}

async function main(): Promise<number> {
  const fail = (message: string) => {
    process.stderr.write(`${message}\n`);
    return 2;
  };
  let config: ReturnType<typeof loadConfig>;
  let args: BackfillArgs;
  try {
    config = loadConfig();
    args = parseArgs(process.argv.slice(2), b3Day(Date.now()));
  } catch (err) {
    if (err instanceof ArgsError) return fail(err.message);
    if (err instanceof ConfigError) return fail(`${err.message}\nSee docs/operations.md for every setting.`);
    throw err;
  }
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  // PGlite's files are the data directory's: one process at a time (a running server holds it).
  let lock: ReturnType<typeof lockDataDir> | undefined;
  try {
    if (!config.databaseUrl) lock = lockDataDir(config.dataDir, log);
  } catch (err) {
    if (err instanceof StartupError) return fail(err.message);
    throw err;
  }
  const db = await openDatabase({
    databaseUrl: config.databaseUrl,
    pgliteDir: join(config.dataDir, 'pglite'),
    log,
  });
  const letters: NewDeadLetter[] = [];
  const paths = defaultLibraryPaths();
  const connector = ProfitConnector.open({
    libraryPath: config.profitDll.path ?? paths.libraryPath,
    capturePath: paths.capturePath,
    ringCapacity: config.profitDll.captureRing,
  });
  // The simulator's live trades are of no use here.
  connector.sim?.setRate(0);
  const { instrument } = args;
  const progress = progressBar(process.stderr);
  const days = new DaysFill(connector, {
    ...args,
    store: new TickStore(db),
    deadLetter: (l) => letters.push(l),
    planned: (asked, skipped) => {
      const notes = [
        skipped.filled > 0 && `${skipped.filled} filled before`,
        skipped.weekend > 0 && `${skipped.weekend} on weekends`,
      ].filter(Boolean);
      process.stderr.write(
        `${instrument.ticker}: ${asked.length} days to ask, ${formatB3Date(args.firstDay)} to ${formatB3Date(args.lastDay)}${notes.length ? ` (skipped: ${notes.join(', ')})` : ''}\n`,
      );
      progress.start(asked.length, 'days');
    },
    dayDone: (r) => progress.tick(describeDay(r)),
    fill: { stallMs: config.backfill.stallMs, backoffMs: config.backfill.retryMs },
  });
  const feed = historyFeed(connector, config.profitDll, days, log, createMetrics());
  try {
    await migrate(db.sql);
    await feed.start();
    const result = await days.done;
    const failed = result.days.filter((d) => d.failure);
    const trades = result.days.reduce((n, d) => n + d.trades, 0);
    const added = result.days.reduce((n, d) => n + d.added, 0);
    progress.finish(
      `${instrument.ticker}: ${result.days.length - failed.length} days stored (${fmt(trades)} trades, ${fmt(added)} new), ${failed.length} failed`,
    );
    for (const d of failed) process.stderr.write(`  ${describeDay(d)}\n`);
    if (letters.length > 0)
      process.stderr.write(`  ${letters.length} history callbacks dead-lettered (operations.md)\n`);
    return failed.length > 0 ? 1 : 0;
  } catch (err) {
    process.stderr.write(
      `Backfill failed: ${(err as Error).message}\nWhat was stored stays; run it again to go on.\n`,
    );
    return 1;
  } finally {
    await feed.stop().catch(() => {});
    await new DeadLetterStore(db.sql).add(letters).catch(() => {});
    await db.close();
    lock?.release();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = await main();
