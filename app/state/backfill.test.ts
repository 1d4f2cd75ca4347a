import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BackfillStatus } from '../../sync-server/shared/market.ts';
import { applyBackfill, type BackfillView, LIVE_SHOWN_MS, shown } from './backfill.ts';

const status = (
  state: BackfillStatus['state'],
  percent: number,
  patch: Partial<BackfillStatus> = {},
): BackfillStatus => ({
  ticker: 'PETR4',
  state,
  percent,
  trades: 10,
  from: 1,
  to: 2,
  ...patch,
});

describe('the backfill store', () => {
  it('shows a bar while it fills, "live" for a moment after, then not', () => {
    let v = applyBackfill(undefined, status('filling', 0), 0);
    expect(shown(v, 0)).toBe(true);
    v = applyBackfill(v, status('filling', 60), 100);
    v = applyBackfill(v, status('live', 100), 1_000);
    expect(v).toMatchObject({ state: 'live', percent: 100, endedAt: 1_000 });
    expect(shown(v, 1_000 + LIVE_SHOWN_MS - 1)).toBe(true);
    expect(shown(v, 1_000 + LIVE_SHOWN_MS)).toBe(false);
    // The same status again (a resubscribe) keeps when it ended.
    expect(applyBackfill(v, status('live', 100), 9_000).endedAt).toBe(1_000);
  });

  it('shows nothing for a ticker already live when this device first hears of it; a failure stays in view', () => {
    expect(shown(applyBackfill(undefined, status('live', 100), 0), 0)).toBe(false);
    const failed = applyBackfill(undefined, status('failed', 100, { reason: 'no answer' }), 0);
    expect(shown(failed, 10 * LIVE_SHOWN_MS)).toBe(true);
    expect(failed.reason).toBe('no answer');
  });

  it('property: the percent shown is within 0..100 whatever the server sends, and only a live bar goes', () => {
    const s = fc.record({
      state: fc.constantFrom<BackfillStatus['state']>('filling', 'live', 'failed'),
      percent: fc.double({ noNaN: true }),
      at: fc.nat(100_000),
    });
    fc.assert(
      fc.property(fc.array(s, { maxLength: 20 }), (steps) => {
        let v: BackfillView | undefined;
        for (const x of steps) {
          v = applyBackfill(v, status(x.state, x.percent), x.at);
          expect(v.percent).toBeGreaterThanOrEqual(0);
          expect(v.percent).toBeLessThanOrEqual(100);
          if (!shown(v, x.at + 1e9)) expect(v.state).toBe('live');
        }
      }),
    );
  });
});
