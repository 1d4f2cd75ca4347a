import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { centavos, type Instrument, instrumentFor } from '../shared/instruments.ts';
import type { CostSchedule } from '../shared/orders.ts';
import { AccountBook } from './accountBook.ts';
import { CostSchedules, DEFAULT_COSTS, fillCosts } from './costs.ts';

const inst = (ticker: string, exchange: 'B' | 'F') => instrumentFor(ticker, exchange) as Instrument;
const TICKERS = [inst('PETR4', 'B'), inst('PETR4F', 'B'), inst('WINZ25', 'F'), inst('WDOZ25', 'F')];
const byTicker = new Map(TICKERS.map((i) => [i.ticker, i]));
const [petr, , win] = TICKERS as [Instrument, Instrument, Instrument, Instrument];
const NOW = () => new Date().toISOString();

const schedule = (s: Partial<CostSchedule>): CostSchedule => ({ ...DEFAULT_COSTS, ...s });

describe('fill costs', () => {
  it('charges equities a rate on the notional, rounded once to the centavo', () => {
    // 100 × R$ 38,50 = R$ 3.850,00; 0,0230 % of it is R$ 0,8855 → R$ 0,89.
    expect(fillCosts({ qty: 100, price: 38.5 }, true, petr, DEFAULT_COSTS)).toEqual({
      brokerageCents: 0,
      feesCents: 89,
    });
  });

  it('charges futures per contract, whatever the price', () => {
    expect(fillCosts({ qty: 3, price: 128_000 }, true, win, DEFAULT_COSTS).feesCents).toBe(75);
    expect(fillCosts({ qty: 3, price: 5 }, true, win, DEFAULT_COSTS).feesCents).toBe(75);
  });

  it('charges a per-order brokerage on the first fill only, a per-unit one on every unit', () => {
    const perOrder = schedule({ brokerage: 'per_order', brokerageCents: 490 });
    expect(fillCosts({ qty: 100, price: 10 }, true, petr, perOrder).brokerageCents).toBe(490);
    expect(fillCosts({ qty: 100, price: 10 }, false, petr, perOrder).brokerageCents).toBe(0);
    const perUnit = schedule({ brokerage: 'per_unit', brokerageCents: 50 });
    expect(fillCosts({ qty: 4, price: 128_000 }, false, win, perUnit).brokerageCents).toBe(200);
  });

  it('a schedule applies from its moment on: earlier fills keep the one they were charged by', () => {
    const s = new CostSchedules();
    const dearer = schedule({ brokerage: 'per_order', brokerageCents: 1_000 });
    s.set('A', 2_000, dearer);
    s.set('A', 1_000, schedule({ futuresFeeCents: 0 }));
    expect(s.at('A', 999)).toBe(DEFAULT_COSTS);
    expect(s.at('A', 1_500).futuresFeeCents).toBe(0);
    expect(s.at('A', 2_000)).toBe(dearer);
    expect(s.at('B', 2_000)).toBe(DEFAULT_COSTS);
    const book = new AccountBook(byTicker, s);
    book.fold(
      'A',
      'WINZ25',
      { orderId: 1, side: 'buy', qty: 1, price: 128_000 },
      new Date(1_500).toISOString(),
    );
    const after = book.fold(
      'A',
      'WINZ25',
      { orderId: 2, side: 'sell', qty: 1, price: 128_010 },
      new Date(2_500).toISOString(),
    );
    expect(after?.costsCents).toBe(0 + 1_000 + 25);
  });
});

// An order: its instrument, side, one price, its quantity in lots, and two ways the venue may split it.
const anOrder = fc
  .record({
    ticker: fc.constantFrom(...TICKERS.map((i) => i.ticker)),
    side: fc.constantFrom<'buy' | 'sell'>('buy', 'sell'),
    ticks: fc.integer({ min: 1, max: 200_000 }),
    lots: fc.integer({ min: 1, max: 12 }),
  })
  .chain((o) =>
    fc.record({
      order: fc.constant(o),
      splitA: fc.array(fc.boolean(), { minLength: o.lots - 1, maxLength: o.lots - 1 }),
      splitB: fc.array(fc.boolean(), { minLength: o.lots - 1, maxLength: o.lots - 1 }),
    }),
  );
const aSchedule = fc.record({
  brokerage: fc.constantFrom<'per_order' | 'per_unit'>('per_order', 'per_unit'),
  brokerageCents: fc.integer({ min: 0, max: 5_000 }),
  equitiesFeePpm: fc.integer({ min: 0, max: 10_000 }),
  futuresFeeCents: fc.integer({ min: 0, max: 1_000 }),
});

/** The lots of each fill: a cut after lot i where cuts[i]. */
const fillsOf = (lots: number, cuts: boolean[]) => {
  const out: number[] = [];
  let run = 1;
  for (let i = 0; i < lots - 1; i++) {
    if (cuts[i]) {
      out.push(run);
      run = 0;
    }
    run++;
  }
  out.push(run);
  return out;
};

interface Filled {
  orderId: number;
  ticker: string;
  side: 'buy' | 'sell';
  qty: number;
  price: number;
}

/** Every fill of the orders, split one way, interleaved across orders by `shuffle`. */
function fillsFor(
  orders: { order: { ticker: string; side: 'buy' | 'sell'; ticks: number; lots: number }; cuts: boolean[] }[],
  shuffle: number[],
): Filled[] {
  const queues = orders.map(({ order: o, cuts }, id) => {
    const i = byTicker.get(o.ticker) as Instrument;
    return fillsOf(o.lots, cuts).map((l) => ({
      orderId: id + 1,
      ticker: o.ticker,
      side: o.side,
      qty: l * i.lotSize,
      price: Number((o.ticks * i.tickSize).toFixed(i.priceDecimals)),
    }));
  });
  const out: Filled[] = [];
  let k = 0;
  while (queues.some((q) => q.length > 0)) {
    const live = queues.filter((q) => q.length > 0);
    const q = live[(shuffle[k++ % Math.max(shuffle.length, 1)] ?? 0) % live.length] as Filled[];
    out.push(q.shift() as Filled);
  }
  return out;
}

/** The account's costs after folding the fills, and the book's day so far. */
function charge(s: CostSchedule, fills: readonly Filled[]) {
  const schedules = new CostSchedules();
  schedules.set('ACC', 0, s);
  const book = new AccountBook(byTicker, schedules);
  let before = 0;
  for (const f of fills) {
    const p = book.fold('ACC', f.ticker, f, NOW());
    const total = [...book.positionsOf('ACC').values()].reduce((n, q) => n + q.costsCents, 0);
    // Each fill adds a whole, non-negative number of centavos.
    expect(Number.isSafeInteger(total - before) && total - before >= 0).toBe(true);
    expect(p?.costsCents).toBeGreaterThanOrEqual(0);
    before = total;
  }
  return { total: before, day: book.day('ACC').costsCents };
}

describe('costs sum', () => {
  it('property: the costs of fills are the sum of each fill’s, the per-order brokerage once per order, whatever the split and the interleaving', () => {
    fc.assert(
      fc.property(
        fc.array(anOrder, { minLength: 1, maxLength: 8 }),
        aSchedule,
        fc.array(fc.nat(100), { maxLength: 40 }),
        fc.array(fc.nat(100), { maxLength: 40 }),
        (orders, s, shuffleA, shuffleB) => {
          const a = fillsFor(
            orders.map((o) => ({ order: o.order, cuts: o.splitA })),
            shuffleA,
          );
          const b = fillsFor(
            orders.map((o) => ({ order: o.order, cuts: o.splitB })),
            shuffleB,
          );
          const costsA = charge(s, a);
          const costsB = charge(s, b);
          // The day's costs are every position's (all the fills are today's).
          expect(costsA.day).toBe(costsA.total);

          // Worked out from the orders, not from the fills' charging: brokerage and futures fees
          // do not depend on the split; the equities rate is rounded once per fill.
          const units = (f: Filled) => f.qty;
          const brokerage =
            s.brokerage === 'per_order'
              ? s.brokerageCents * orders.length
              : s.brokerageCents * a.reduce((n, f) => n + units(f), 0);
          const fees = (fills: Filled[]) =>
            fills.reduce((n, f) => {
              const i = byTicker.get(f.ticker) as Instrument;
              return (
                n +
                (i.exchange === 'F'
                  ? s.futuresFeeCents * f.qty
                  : Math.round((centavos(f.price, f.qty, i) * s.equitiesFeePpm) / 1e6))
              );
            }, 0);
          expect(costsA.total).toBe(brokerage + fees(a));
          expect(costsB.total).toBe(brokerage + fees(b));

          // Another split moves the total only by the equities fee's rounding: ½ centavo a fill.
          const exact = a.reduce((n, f) => {
            const i = byTicker.get(f.ticker) as Instrument;
            return n + (i.exchange === 'F' ? 0 : (centavos(f.price, f.qty, i) * s.equitiesFeePpm) / 1e6);
          }, 0);
          const equityFills = (fills: Filled[]) =>
            fills.filter((f) => byTicker.get(f.ticker)?.exchange === 'B').length;
          const exactTotal =
            brokerage + fees(a.filter((f) => byTicker.get(f.ticker)?.exchange === 'F')) + exact;
          expect(Math.abs(costsA.total - exactTotal)).toBeLessThanOrEqual(equityFills(a) / 2);
          expect(Math.abs(costsB.total - exactTotal)).toBeLessThanOrEqual(equityFills(b) / 2);
          if (s.equitiesFeePpm === 0) expect(costsA.total).toBe(costsB.total);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
