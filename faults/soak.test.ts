import { describe, expect, it } from 'vitest';
import { formatSummary } from '../bench/soak/format.ts';
import { SOAK_DEFAULTS, type SoakOptions } from '../bench/soak/model.ts';
import { runSoak } from '../bench/soak.ts';

// The CI soak: 60 s of every kind of load at once against the whole server in its own process
// (bench/soak.ts; the 10-minute version with the figures is bench/soak.bench.ts).
// Scaled down from 500 clients / 50 orders/s / 100 editors at 2 edits/s because two cores
// run the server, PostgreSQL, Redis and this generator together: see docs/benchmarks.md (Soak).
// Asserted: no error of any kind (market sequence gaps or duplicates, socket closes, order
// answers other than 2xx or a risk 422, orders left without a final state, lost capture
// events, server error logs, an unclean exit), every room converged, every order answered, and
// no growth of the live heap after the warm-up. Latencies are printed, never asserted.

const CI: SoakOptions = {
  ...SOAK_DEFAULTS,
  seconds: 60,
  sampleSeconds: 5,
  clients: 100,
  rate: 20_000,
  ordersPerSecond: 20,
  traders: 4,
  editors: 50,
  rooms: 10,
  editsPerSecond: 1,
};

describe('soak', () => {
  it(`holds ${CI.clients} market clients at ${CI.rate} trades/s, ${CI.ordersPerSecond} orders/s and ${CI.editors} editors for ${CI.seconds} s`, async () => {
    // One print at the end (vitest heads every console.log with the test's name).
    const lines: string[] = [];
    const report = await runSoak({ ...CI, log: (line) => lines.push(line) }).finally(() =>
      console.log(lines.join('\n')),
    );
    console.log(formatSummary(report));

    expect(report.errors, report.errorExamples.join('\n')).toEqual({});
    expect(report.errorCount).toBe(0);
    // Sequences: every client got trades, contiguous per ticker (gaps are errors above).
    expect(report.market.trades).toBeGreaterThan(0);
    // Shared documents: every editor of each room, and a fresh reader, hold the same document.
    expect(report.yjs.converged).toBe(report.yjs.rooms);
    // Reconnects are tolerated (the provider resyncs, convergence is checked above), a few only.
    expect(report.yjs.reconnects, report.yjs.closes.join(', ')).toBeLessThanOrEqual(2);
    expect(report.yjs.edits).toBeGreaterThan(0);
    // Orders: each one answered (2xx or a risk 422), the deliberately oversized ones refused.
    expect(report.orders.answered).toBe(report.orders.sent);
    expect(report.orders.ok + Object.values(report.orders.riskRejected).reduce((a, b) => a + b, 0)).toBe(
      report.orders.sent,
    );
    expect(report.orders.notFinal).toBe(0);
    // Memory: the live heap (after a forced full GC) of the last third is not above the second
    // third's by more than max(8 MB, 10 %): a leak of ≳0.3 MB/s fails here; see the docs.
    expect(report.heap.growthMb, JSON.stringify(report.heap)).toBeLessThanOrEqual(report.heap.toleranceMb);
    expect(report.server.exit).toBe(0);
  }, 175_000);
});
