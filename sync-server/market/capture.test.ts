import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseProfitDate, type RawDaily, type RawTrade, RejectReason, TradeCapture } from './capture.ts';

const NOW = Date.UTC(2026, 10, 25, 15, 0, 0); // 12:00 in São Paulo
const good: RawTrade = {
  ticker: 'PETR4',
  exchange: 'B',
  date: '25/11/2026 12:00:00.250',
  tradeNumber: 7,
  price: 38.51,
  qty: 200,
  buyAgent: 3,
  sellAgent: 8,
  tradeType: 1,
  isEdit: false,
  capturedAtNs: 1_700_000_000_123_456_789n,
};
const make = () => new TradeCapture(new Set(['PETR4:B', 'WINZ25:F', 'WDOZ25:F']), () => NOW);

describe('parseProfitDate', () => {
  it('reads B3 local time (UTC-3)', () => {
    expect(parseProfitDate('25/11/2026 12:00:00.250')).toBe(Date.UTC(2026, 10, 25, 15, 0, 0, 250));
  });
  it.each([
    '31/02/2026 10:00:00.000',
    '25/11/2026 24:00:00.000',
    '2026-11-25 12:00:00',
    '25/11/2026 12:00:00',
    '',
  ])('rejects %j', (s) => expect(parseProfitDate(s)).toBeNaN());
});

describe('TradeCapture', () => {
  it('normalises a valid trade and numbers each ticker from 1', () => {
    const c = make();
    const a = c.capture(good);
    const b = c.capture({ ...good, tradeNumber: 8 });
    const w = c.capture({ ...good, ticker: 'WINZ25', exchange: 'F', price: 128_005, qty: 3 });
    expect(a.ok && a.trade.seq).toBe(1);
    expect(b.ok && b.trade.seq).toBe(2);
    expect(w.ok && w.trade.seq).toBe(1);
    expect(a.ok && a.trade).toMatchObject({
      price: 38.51,
      qty: 200,
      time: Date.UTC(2026, 10, 25, 15, 0, 0, 250),
    });
    expect(a.ok && a.trade.capturedAt).toBeCloseTo(1_700_000_000_123.4568, 3);
  });

  it('continues sequences after a restart', () => {
    const c = make();
    c.resumeFrom(new Map([['PETR4', 41]]));
    const r = c.capture(good);
    expect(r.ok && r.trade.seq).toBe(42);
  });

  it.each<[Partial<RawTrade>, RejectReason]>([
    [{ ticker: 'XXXX3' }, RejectReason.unknownTicker],
    [{ exchange: 'F' }, RejectReason.unknownTicker],
    [{ date: '99/99/2026 12:00:00.000' }, RejectReason.badDate],
    [{ date: '25/11/2020 12:00:00.000' }, RejectReason.staleOrFuture],
    [{ price: Number.NaN }, RejectReason.badPrice],
    [{ price: -1 }, RejectReason.badPrice],
    [{ price: 0 }, RejectReason.badPrice],
    [{ price: 38.515 }, RejectReason.offGrid],
    [{ qty: 0 }, RejectReason.badQty],
    [{ qty: 1.5 }, RejectReason.badQty],
    [{ tradeNumber: -1 }, RejectReason.badTradeNumber],
    [{ truncated: true }, RejectReason.truncated],
  ])('rejects %o as %s without consuming a sequence number', (patch, reason) => {
    const c = make();
    const r = c.capture({ ...good, ...patch });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toBe(reason);
    expect(c.lastSeq('PETR4')).toBe(0);
  });

  it('accepts WIN only on its 5-point grid and WDO on its 0.5 grid', () => {
    const c = make();
    expect(c.capture({ ...good, ticker: 'WINZ25', exchange: 'F', price: 128_003 }).ok).toBe(false);
    expect(c.capture({ ...good, ticker: 'WDOZ25', exchange: 'F', price: 5400.5 }).ok).toBe(true);
    expect(c.capture({ ...good, ticker: 'WDOZ25', exchange: 'F', price: 5400.25 }).ok).toBe(false);
  });

  it('property: accepted trades are on the grid, positive, and sequenced without gaps', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            price: fc.oneof(
              fc.double({ min: -10, max: 100 }),
              fc.integer({ min: 1, max: 10_000 }).map((t) => t / 100),
            ),
            qty: fc.oneof(fc.integer({ min: -5, max: 1000 }), fc.double()),
            ticker: fc.constantFrom('PETR4', 'VALE3', 'WINZ25'),
          }),
          { maxLength: 60 },
        ),
        (events) => {
          const c = make();
          let expected = 0;
          for (const e of events) {
            const r = c.capture({ ...good, ...e, exchange: e.ticker === 'WINZ25' ? 'F' : 'B' });
            if (!r.ok) continue;
            expect(r.trade.ticker).toBe('PETR4' === e.ticker || 'WINZ25' === e.ticker ? e.ticker : 'never');
            expect(r.trade.price).toBeGreaterThan(0);
            expect(Number.isInteger(r.trade.qty) && r.trade.qty > 0).toBe(true);
            if (r.trade.ticker === 'PETR4') expect(r.trade.seq).toBe(++expected);
          }
          expect(c.lastSeq('PETR4')).toBe(expected);
        },
      ),
    );
  });
});

describe('daily and book-side callbacks', () => {
  const daily: RawDaily = {
    ticker: 'PETR4',
    exchange: 'B',
    date: '25/11/2026 12:00:00.000',
    open: 38.1,
    high: 38.9,
    low: 37.95,
    close: 38.5,
    maxLimit: 41.9,
    minLimit: 34.29,
    qty: 1_250_000,
    trades: 9_812,
  };

  it('reads a daily callback as the day figures, snapped to the grid', () => {
    const r = make().captureDay({ ...daily, open: 38.100000000001 });
    expect(r).toMatchObject({
      ok: true,
      day: {
        time: Date.UTC(2026, 10, 25, 15),
        open: 38.1,
        high: 38.9,
        low: 37.95,
        qty: 1_250_000,
        trades: 9_812,
        minLimit: 34.29,
        maxLimit: 41.9,
      },
    });
  });

  it('takes a day without a trade yet (all prices 0) as nothing to apply', () => {
    expect(make().captureDay({ ...daily, open: 0, high: 0, low: 0, close: 0 })).toMatchObject({
      ok: true,
      day: undefined,
    });
  });

  it.each([
    [{ ticker: 'VALE3' }, RejectReason.unknownTicker],
    [{ truncated: true }, RejectReason.truncated],
    [{ date: '25/11/2026' }, RejectReason.badDate],
    [{ date: '25/11/2025 12:00:00.000' }, RejectReason.staleOrFuture],
    [{ open: Number.NaN }, RejectReason.badPrice],
    [{ high: -1 }, RejectReason.badPrice],
    [{ low: 37.955 }, RejectReason.offGrid],
    [{ low: 38.2 }, RejectReason.inconsistentDay], // above the open
    [{ high: 38.4 }, RejectReason.inconsistentDay], // below the close
    [{ minLimit: 42, maxLimit: 41.9 }, RejectReason.badPrice],
    [{ maxLimit: Number.POSITIVE_INFINITY }, RejectReason.badPrice],
    [{ qty: 1.5 }, RejectReason.badQty],
    [{ trades: -1 }, RejectReason.badQty],
  ] as const)('refuses a daily callback with %j: %s', (patch, reason) => {
    expect(make().captureDay({ ...daily, ...patch })).toMatchObject({ ok: false, reason });
  });

  it('checks tiny-book and offer-book sides', () => {
    const c = make();
    const side = { ticker: 'PETR4', exchange: 'B', price: 38.5, qty: 300, side: 1 };
    expect(c.checkBookSide(side)).toBeUndefined();
    expect(c.checkBookSide({ ...side, price: 0, qty: 0 })).toBeUndefined(); // an empty side
    expect(c.checkBookSide({ ...side, side: 2 })).toMatchObject({ reason: RejectReason.badSide });
    expect(c.checkBookSide({ ...side, price: 38.505 })).toMatchObject({ reason: RejectReason.offGrid });
    expect(c.checkBookSide({ ...side, qty: -100 })).toMatchObject({ reason: RejectReason.badQty });
    expect(c.checkBookSide({ ...side, ticker: 'XXXX3' })).toMatchObject({
      reason: RejectReason.unknownTicker,
    });
  });

  it('property: a daily callback of any numbers is refused with a reason or gives a consistent day', () => {
    const num = fc.oneof(
      fc.double({ noNaN: false }),
      fc.integer({ min: 0, max: 5_000 }).map((n) => n / 100),
      fc.constant(0),
    );
    fc.assert(
      fc.property(
        num,
        num,
        num,
        num,
        num,
        num,
        fc.oneof(fc.integer(), fc.double()),
        (open, high, low, close, lo, hi, qty) => {
          const r = make().captureDay({ ...daily, open, high, low, close, minLimit: lo, maxLimit: hi, qty });
          if (!r.ok) expect(Object.values(RejectReason)).toContain(r.reason);
          else if (r.day) {
            const d = r.day;
            expect(d.low).toBeGreaterThan(0);
            expect(d.low).toBeLessThanOrEqual(d.open);
            expect(d.open).toBeLessThanOrEqual(d.high);
            expect(Number.isSafeInteger(d.qty) && d.qty >= 0).toBe(true);
            expect(d.minLimit <= d.maxLimit || d.minLimit === 0).toBe(true);
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
