import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import type { InstrumentInfo } from '../../sync-server/shared/market.ts';
import { setLang } from '../i18n/i18n.ts';
import { checkTicket, stepPrice, stepQty } from './ticket.ts';

const PETR4: InstrumentInfo = {
  ticker: 'PETR4',
  exchange: 'B',
  tickSize: 0.01,
  lotSize: 100,
  priceDecimals: 2,
  multiplier: 1,
};
const WIN: InstrumentInfo = {
  ticker: 'WINZ25',
  exchange: 'F',
  tickSize: 5,
  lotSize: 1,
  priceDecimals: 0,
  multiplier: 0.2,
};
const WDO: InstrumentInfo = {
  ticker: 'WDOZ25',
  exchange: 'F',
  tickSize: 0.5,
  lotSize: 1,
  priceDecimals: 1,
  multiplier: 10,
};
const instrument = fc.constantFrom(PETR4, WIN, WDO);

describe('order ticket checks', () => {
  beforeEach(() => setLang('en'));

  it('names the field and the rule that is broken', () => {
    const d = { ticker: 'PETR4', side: 'buy', type: 'limit', qty: 150, price: 38.505 } as const;
    expect(checkTicket(d, PETR4)).toEqual({
      qty: 'Quantity must be a multiple of the lot (100)',
      price: 'Price must be a multiple of the tick (0,01)',
    });
    expect(checkTicket({ ...d, qty: 0 }, PETR4).qty).toBe('Enter a whole quantity above zero');
    expect(checkTicket({ ...d, price: undefined }, PETR4).price).toBe('Enter a limit price');
    expect(checkTicket({ ...d, type: 'market', qty: 200 }, PETR4)).toEqual({});
    expect(checkTicket(d, undefined)).toEqual({ ticker: 'PETR4 is not on the feed' });
    setLang('pt');
    expect(checkTicket(d, PETR4).qty).toBe('A quantidade deve ser múltipla do lote (100)');
    expect(checkTicket({ ...d, ticker: '' }, undefined)).toEqual({ ticker: 'Este ativo não está no feed' });
  });

  it("refuses a limit price outside the exchange's limits for the day, as the server does", () => {
    const d = { ticker: 'PETR4', side: 'buy', type: 'limit', qty: 100, price: 38.5 } as const;
    const limits = { minLimit: 34.65, maxLimit: 42.35 };
    expect(checkTicket(d, PETR4, limits)).toEqual({});
    expect(checkTicket({ ...d, price: 42.35 }, PETR4, limits)).toEqual({});
    expect(checkTicket({ ...d, price: 42.36 }, PETR4, limits).price).toBe(
      "Outside today's B3 limits (34,65 to 42,35)",
    );
    expect(checkTicket({ ...d, price: 34.64 }, PETR4, limits).price).toMatch(/B3 limits/);
    expect(checkTicket({ ...d, price: 99 }, PETR4)).toEqual({}); // no limits known: the server decides
    expect(checkTicket({ ...d, type: 'market', price: undefined }, PETR4, limits)).toEqual({});
  });

  it('property: a limit order passes exactly when qty is a lot multiple and price a whole number of ticks', () => {
    fc.assert(
      fc.property(
        instrument,
        fc.integer({ min: 1, max: 5_000 }),
        fc.integer({ min: 1, max: 40_000 }),
        fc.boolean(),
        (inst, qty, ticks, offGrid) => {
          const price =
            Number((ticks * inst.tickSize).toFixed(inst.priceDecimals)) + (offGrid ? inst.tickSize / 3 : 0);
          const p = checkTicket({ ticker: inst.ticker, side: 'sell', type: 'limit', qty, price }, inst);
          expect(p.qty === undefined).toBe(qty % inst.lotSize === 0);
          expect(p.price === undefined).toBe(!offGrid);
        },
      ),
    );
  });

  it('property: arrow steps land on the grid and never below one tick or one lot', () => {
    fc.assert(
      fc.property(
        instrument,
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.integer({ min: -50, max: 50 }),
        (inst, from, steps) => {
          const price = stepPrice(from, inst, steps);
          expect(
            checkTicket({ ticker: inst.ticker, side: 'buy', type: 'limit', qty: inst.lotSize, price }, inst),
          ).toEqual({});
          const qty = stepQty(Math.round(from), inst, steps);
          expect(qty % inst.lotSize).toBe(0);
          expect(qty).toBeGreaterThanOrEqual(inst.lotSize);
        },
      ),
    );
  });
});
