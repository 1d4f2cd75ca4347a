import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { b3Day } from '../sync-server/shared/market.ts';
import { ArgsError, formatB3Date, MAX_DAYS, parseArgs, parseB3Date } from './backfill.ts';

// The backfill CLI's command line: it reads untrusted text, so the date parser is checked
// against a reference over any string, and every refusal names what is wrong with exit code 2.

const DAY_MS = 86_400_000;
const TODAY = b3Day(Date.UTC(2026, 11, 3, 15));

/** The reference: exactly DD/MM/YYYY, a day of the calendar, from 1970. */
function valid(s: string): boolean {
  const m = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(s);
  if (!m) return false;
  const [d, mo, y] = m.slice(1).map(Number) as [number, number, number];
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  return y >= 1970 && t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

const outcome = (f: () => unknown) => {
  try {
    f();
    return 'ok';
  } catch (err) {
    if (err instanceof ArgsError) return 'refused';
    throw err;
  }
};

describe('parseB3Date', () => {
  it('reads the days of the calendar and refuses anything else', () => {
    expect(parseB3Date('02/06/2025')).toBe(Date.UTC(2025, 5, 2) / DAY_MS);
    expect(parseB3Date('29/02/2024')).toBe(Date.UTC(2024, 1, 29) / DAY_MS);
    for (const s of [
      '29/02/2025',
      '31/04/2025',
      '00/01/2025',
      '01/13/2025',
      '2/06/2025',
      '02/06/25',
      '02-06-2025',
      ' 02/06/2025',
      '02/06/2025 ',
      '31/12/1969',
      '01/01/0050',
      '０２/06/2025',
      '',
    ])
      expect(() => parseB3Date(s, '--from'), s).toThrow(ArgsError);
    expect(() => parseB3Date('31/02/2025', '--from')).toThrow(
      '--from: 31/02/2025 is not a day of the calendar',
    );
  });

  it('property: refuses exactly what the reference refuses, and reads a day back as itself', () => {
    const p = (n: number, w: number) => String(n).padStart(w, '0');
    const fields = fc
      .tuple(
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 1900, max: 9999 }),
      )
      .map(([d, m, y]) => `${p(d, 2)}/${p(m, 2)}/${p(y, 4)}`);
    const day = fc.integer({ min: 0, max: 2_900_000 }).map(formatB3Date);
    const text = fc.oneof(
      fields,
      day,
      day.chain((s) =>
        fc
          .tuple(fc.nat(10), fc.string({ maxLength: 2 }))
          .map(([at, x]) => s.slice(0, at) + x + s.slice(at + 1)),
      ),
      fc.string({ maxLength: 12 }),
      fc.string({ maxLength: 12, unit: 'binary' }),
    );
    fc.assert(
      fc.property(text, (s) => {
        expect(outcome(() => parseB3Date(s))).toBe(valid(s) ? 'ok' : 'refused');
        if (valid(s)) expect(formatB3Date(parseB3Date(s))).toBe(s);
      }),
      { numRuns: 3_000 },
    );
  });
});

describe('parseArgs', () => {
  it('takes a ticker, its exchange from the B3 rules, and days up to yesterday by default', () => {
    expect(parseArgs(['--ticker', 'PETR4', '--from', '01/12/2026'], TODAY)).toMatchObject({
      instrument: { ticker: 'PETR4', exchange: 'B' },
      firstDay: TODAY - 2,
      lastDay: TODAY - 1,
      again: false,
    });
    expect(
      parseArgs(['--from', '01/12/2026', '--to', '01/12/2026', '--ticker', 'WINZ25', '--again'], TODAY),
    ).toMatchObject({
      instrument: { exchange: 'F' },
      firstDay: TODAY - 2,
      lastDay: TODAY - 2,
      again: true,
    });
  });

  it.each([
    [[], /--ticker is required/],
    [['--ticker', 'PETR4'], /--from is required/],
    [['--ticker', 'XXXX', '--from', '01/12/2026'], /not a B3 ticker Tape knows/],
    [['--ticker', 'petr4', '--from', '01/12/2026'], /not a B3 ticker Tape knows/],
    [['--ticker', 'PETR4', '--from'], /--from needs a value/],
    [['--ticker', 'PETR4', '--from', '--to'], /--from needs a value/],
    [['--ticker', 'PETR4', '--ticker', 'VALE3', '--from', '01/12/2026'], /--ticker is given twice/],
    [['--ticker', 'PETR4', '--from', '01/12/2026', '--days', '3'], /unknown argument "--days"/],
    [['--ticker', 'PETR4', '--from', '2026-12-01'], /--from: "2026-12-01" is not a date as DD\/MM\/YYYY/],
    [
      ['--ticker', 'PETR4', '--from', '01/12/2026', '--to', '03/12/2026'],
      /not before today \(03\/12\/2026\): today's history is the server's/,
    ],
    [
      ['--ticker', 'PETR4', '--from', '02/12/2026', '--to', '01/12/2026'],
      /--from 02\/12\/2026 is after --to 01\/12\/2026/,
    ],
    [['--ticker', 'PETR4', '--from', '01/01/2020'], new RegExp(`at most ${MAX_DAYS} at a time`)],
  ])('%j is refused: %s', (argv, reason) => {
    expect(() => parseArgs(argv as string[], TODAY)).toThrow(reason);
  });

  it('property: any command line is read or refused with a reason, never anything else', () => {
    const token = fc.oneof(
      fc.constantFrom('--ticker', '--from', '--to', '--again', 'PETR4', 'WINZ25', '01/12/2026', '02/12/2026'),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 8 }), (argv) => {
        const r = outcome(() => parseArgs(argv, TODAY));
        expect(['ok', 'refused']).toContain(r);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('npm run backfill', () => {
  it('exits 2 with the reason on a bad command line, before it opens anything', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tape-backfill-args-'));
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/backfill.ts', '--ticker', 'PETR4', '--from', '31/02/2025'],
      {
        env: { ...process.env, TAPE_DATA_DIR: dir, DATABASE_URL: '' },
        encoding: 'utf8',
      },
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--from: 31/02/2025 is not a day of the calendar');
  });
});
