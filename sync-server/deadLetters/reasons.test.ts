import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RejectReason } from '../market/capture.ts';

// Every reason the server can write a dead letter with is provoked and asserted by a test, and
// named in operations.md. The letters are found in the source: an object with a `source:` and
// then a `reason:`. A reason given by an expression rather than a literal is listed below with
// the values it takes; an expression not listed fails this test until it is.

const root = join(import.meta.dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const sourceFiles = (dir: string) =>
  readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => join(dir, f));

const bookReasons = [...read('sync-server/market/book.ts').matchAll(/new BookError\(\s*'([a-z_]+)'/g)].map(
  (m) => m[1] as string,
);

/** Reasons written from an expression (file and expression): the values it can take. */
const EXPRESSIONS: Record<string, readonly string[]> = {
  // What capture refused (market/capture.ts).
  'sync-server/market/feed.ts r.reason': Object.values(RejectReason),
  // The DLL's own report of a bad ticker, or a record kind the binding cannot read.
  'sync-server/market/feed.ts ev.kind': ['invalidTicker', 'unknown'],
  // A previous close off the tick grid (GetLastDailyClose; feed.test.ts provokes it).
  'sync-server/market/feed.ts RejectReason.badPrice': [RejectReason.badPrice],
  // A history answer capture refused, one nothing asked for, or a progress out of 0..100.
  'sync-server/market/historyFill.ts why': Object.values(RejectReason),
  // A price-book event the book cannot apply (market/book.ts).
  'sync-server/market/service.ts err.reason': bookReasons,
  // The dead-letter metric's labels: a letter's own source and reason, passed through.
  'sync-server/server.ts l.reason': [],
  // The admin's list: its reason filter, and a stored letter passed through as JSON.
  'sync-server/http/routes/deadLetters.ts z.string().min(1).max(100).optional()': [],
  'sync-server/http/routes/deadLetters.ts l.reason': [],
};
/** The dead-letter store only passes letters through. */
const STORE = 'sync-server/store/deadLetters.ts';

/** Each reason and the test that provokes it and asserts the letter (or the refusal behind it). */
const TESTED: Record<string, string> = {
  truncated_field: 'sync-server/market/capture.test.ts',
  unknown_ticker: 'sync-server/market/capture.test.ts',
  bad_date: 'sync-server/market/capture.test.ts',
  time_out_of_range: 'sync-server/market/capture.test.ts',
  bad_price: 'sync-server/market/capture.test.ts',
  price_off_tick_grid: 'sync-server/market/capture.test.ts',
  bad_quantity: 'sync-server/market/capture.test.ts',
  bad_trade_number: 'sync-server/market/capture.test.ts',
  bad_side: 'sync-server/market/capture.test.ts',
  inconsistent_day: 'sync-server/market/capture.test.ts',
  unrequested_history: 'sync-server/market/backfill.test.ts',
  bad_progress: 'sync-server/market/backfill.test.ts',
  history_failed: 'sync-server/market/backfill.test.ts',
  invalidTicker: 'sync-server/market/feed.test.ts',
  unknown: 'sync-server/market/feed.test.ts',
  unknown_state_type: 'sync-server/market/feed.test.ts',
  ring_overflow: 'sync-server/market/feed.test.ts',
  invalid_agent: 'sync-server/market/agents.test.ts',
  bad_book_side: 'sync-server/market/book.test.ts',
  bad_book_action: 'sync-server/market/book.test.ts',
  book_position_out_of_range: 'sync-server/market/book.test.ts',
  bad_book_level: 'sync-server/market/book.test.ts',
  full_book_unsupported: 'sync-server/market/book.test.ts',
  write_buffer_overflow: 'sync-server/market/writer.test.ts',
  write_rejected: 'sync-server/market/writer.test.ts',
  unwritten_at_shutdown: 'sync-server/market/writer.test.ts',
  held_overflow: 'sync-server/orders/manager.test.ts',
  unknown_order: 'sync-server/orders/brokerTruth.test.ts',
  invalid_position: 'sync-server/orders/brokerTruth.test.ts',
  unknown_status: 'sync-server/orders/manager.test.ts',
  invalid_transition: 'sync-server/orders/manager.test.ts',
  update_failed: 'sync-server/orders/manager.test.ts',
  invalid_order: 'sync-server/orders/manager.test.ts',
};

/** Every reason a dead letter can be written with, from the source. */
function writtenReasons(): Set<string> {
  const reasons = new Set<string>();
  for (const file of [...sourceFiles('sync-server'), ...sourceFiles('native'), ...sourceFiles('scripts')]) {
    if (file === STORE) continue;
    for (const m of read(file).matchAll(/source:\s*[^,\n]+,\s*reason:\s*([^,\n}]+)/g)) {
      const expr = (m[1] as string).trim();
      const literal = /^'([A-Za-z_]+)'$/.exec(expr);
      const values = literal ? [literal[1] as string] : EXPRESSIONS[`${file} ${expr}`];
      if (!values)
        throw new Error(
          `${file}: a dead letter's reason is \`${expr}\`: list the values it takes in EXPRESSIONS`,
        );
      for (const v of values) reasons.add(v);
    }
  }
  return reasons;
}

describe('dead-letter reasons', () => {
  const written = writtenReasons();

  it('finds the letters in the source', () => {
    // A guard on the search itself: the writers of each source are all found.
    expect(written).toContain('ring_overflow');
    expect(written).toContain('invalid_transition');
    expect(written).toContain('bad_book_level');
    expect(written).toContain(RejectReason.inconsistentDay);
  });

  it('names a test for every reason written, and no reason that is not', () => {
    expect([...written].sort()).toEqual(Object.keys(TESTED).sort());
  });

  const capture = new Map<string, string>(
    Object.entries(RejectReason).map(([k, v]) => [v, `RejectReason.${k}`]),
  );
  it.each(Object.entries(TESTED))('%s is asserted in %s', (reason, test) => {
    const text = read(test);
    const mentions = [`'${reason}'`, capture.get(reason)].filter((m) => m !== undefined);
    expect(mentions.some((m) => text.includes(m))).toBe(true);
  });

  it('operations.md names every reason', () => {
    const ops = read('docs/operations.md');
    expect(Object.keys(TESTED).filter((r) => !ops.includes(`\`${r}\``))).toEqual([]);
  });
});
