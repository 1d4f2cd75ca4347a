import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { centavos, instrumentFor } from '../shared/instruments.ts';
import { unrealizedCents } from '../shared/orders.ts';
import { applyFill, averagePrice, exposure, type Fill, FLAT } from './positions.ts';

const petr = instrumentFor('PETR4', 'B') as NonNullable<ReturnType<typeof instrumentFor>>;
const win = instrumentFor('WINZ25', 'F') as NonNullable<ReturnType<typeof instrumentFor>>;
const fold = (fills: Fill[], inst = petr) => fills.reduce((p, f) => applyFill(p, f, inst), FLAT);

describe('positions and P&L', () => {
  it('averages entries and realizes on exit', () => {
    const p = fold([
      { side: 'buy', qty: 100, price: 38 },
      { side: 'buy', qty: 300, price: 39 },
    ]);
    expect(p).toEqual({ qty: 400, costCents: 1_550_000, realizedCents: 0, costsCents: 0 });
    expect(averagePrice(p, petr)).toBe(38.75);
    const q = applyFill(p, { side: 'sell', qty: 200, price: 40 }, petr);
    expect(q).toEqual({ qty: 200, costCents: 775_000, realizedCents: 25_000, costsCents: 0 }); // (40 − 38.75) × 200
    expect(unrealizedCents(q, 41, petr)).toBe(45_000);
  });

  it('flips from long to short through zero with the right basis', () => {
    const p = fold([
      { side: 'buy', qty: 100, price: 10 },
      { side: 'sell', qty: 300, price: 12 },
    ]);
    expect(p).toEqual({ qty: -200, costCents: -240_000, realizedCents: 20_000, costsCents: 0 });
    expect(averagePrice(p, petr)).toBe(12);
    const covered = applyFill(p, { side: 'buy', qty: 200, price: 11 }, petr);
    expect(covered).toEqual({ qty: 0, costCents: 0, realizedCents: 40_000, costsCents: 0 });
  });

  it('values WIN points at R$0.20', () => {
    const p = fold(
      [
        { side: 'buy', qty: 2, price: 128_000 },
        { side: 'sell', qty: 2, price: 128_100 },
      ],
      win,
    );
    expect(p.realizedCents).toBe(2 * 100 * 20); // 100 points × R$0.20 × 2 contracts
  });

  it('summarises exposure across instruments', () => {
    const long = fold([{ side: 'buy', qty: 100, price: 10 }]);
    const short = fold([{ side: 'sell', qty: 1, price: 128_000 }], win);
    const e = exposure([
      { position: long, mark: 11, inst: petr },
      { position: short, mark: 127_900, inst: win },
    ]);
    expect(e).toEqual({
      grossCents: 110_000 + 2_558_000,
      netCents: 110_000 - 2_558_000,
      realizedCents: 0,
      unrealizedCents: 10_000 + 2_000,
      costsCents: 0,
    });
  });

  it('property: fills sum to the position, and realized + unrealized = cash flow + marked value, to the cent', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            side: fc.constantFrom('buy' as const, 'sell' as const),
            lots: fc.integer({ min: 1, max: 50 }),
            ticks: fc.integer({ min: 1, max: 20_000 }),
          }),
          { maxLength: 60 },
        ),
        fc.integer({ min: 1, max: 20_000 }),
        (raw, markTicks) => {
          const fills: Fill[] = raw.map((f) => ({ side: f.side, qty: f.lots * 100, price: f.ticks / 100 }));
          const p = fold(fills);
          const net = fills.reduce((n, f) => n + (f.side === 'buy' ? f.qty : -f.qty), 0);
          expect(p.qty).toBe(net);
          const cash = fills.reduce(
            (c, f) => c + (f.side === 'sell' ? 1 : -1) * centavos(f.price, f.qty, petr),
            0,
          );
          const mark = markTicks / 100;
          const marked = Math.sign(p.qty) * centavos(mark, Math.abs(p.qty), petr);
          expect(p.realizedCents + unrealizedCents(p, mark, petr)).toBe(cash + marked);
          if (p.qty === 0) expect(p.costCents).toBe(0);
          expect(Number.isInteger(p.costCents) && Number.isInteger(p.realizedCents)).toBe(true);
        },
      ),
      { numRuns: 3_000 },
    );
  });
});
