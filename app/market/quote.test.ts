import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyTrades, type Quote } from '../../sync-server/shared/market.ts';
import { T0, tradeAt } from '../testing/trades.ts';
import { dayChange, financialVolume } from './quote.ts';

describe('dayChange', () => {
  it('measures against the previous close, as B3 does, not against the open', () => {
    expect(dayChange({ last: 39.6, open: 40, previousClose: 36 })).toEqual({
      pct: expect.closeTo(10, 9),
      basis: 'previousClose',
    });
    // Below the open but above the previous close: up on the day.
    expect(dayChange({ last: 39, open: 40, previousClose: 38 }).pct).toBeGreaterThan(0);
  });

  it('falls back to the open, and says so, before a previous close is known', () => {
    expect(dayChange({ last: 41, open: 40 })).toEqual({ pct: expect.closeTo(2.5, 9), basis: 'open' });
    expect(dayChange({ last: 41, open: 0 }).pct).toBeNull();
  });

  it('property: the sign of the change is the sign of last minus the reference', () => {
    const price = fc.integer({ min: 1, max: 1_000_000 }).map((c) => c / 100);
    fc.assert(
      fc.property(price, price, fc.option(price, { nil: undefined }), (last, open, previousClose) => {
        const { pct, basis } = dayChange({ last, open, previousClose });
        const ref = previousClose ?? open;
        expect(basis).toBe(previousClose ? 'previousClose' : 'open');
        expect(Math.sign(pct as number)).toBe(Math.sign(last - ref));
      }),
    );
  });
});

describe('financialVolume', () => {
  it('is the sum of price times quantity, times the multiplier', () => {
    const q = applyTrades(undefined, 'F', [
      tradeAt(1, { price: 128_000, qty: 2, time: T0 }),
      tradeAt(2, { price: 128_050, qty: 3, time: T0 + 1 }),
    ]) as Quote;
    // WIN: R$ 0.20 per point per contract.
    expect(financialVolume(q, 0.2)).toBeCloseTo((128_000 * 2 + 128_050 * 3) * 0.2, 6);
    expect(financialVolume({}, 1)).toBeNull();
  });
});
