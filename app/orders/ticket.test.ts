import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { say, setLang } from '../i18n/i18n.ts';
import { PETR4, WDO, WIN } from '../testing/instruments.ts';
import { checkTicket, stepPrice, stepQty, ticketSummary } from './ticket.ts';

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

  it('checks a stop-limit: its stop price on the grid and the limit on the right side of the stop', () => {
    const d = {
      ticker: 'PETR4',
      side: 'buy',
      type: 'stop_limit',
      qty: 100,
      price: 38.7,
      stopPrice: 38.6,
    } as const;
    expect(checkTicket(d, PETR4)).toEqual({});
    expect(checkTicket({ ...d, price: 38.6 }, PETR4)).toEqual({}); // the limit at the stop
    expect(checkTicket({ ...d, stopPrice: undefined }, PETR4).stopPrice).toBe('Enter the stop price');
    expect(checkTicket({ ...d, stopPrice: 38.605 }, PETR4).stopPrice).toBe(
      'The stop price must be a multiple of the tick (0,01)',
    );
    expect(checkTicket({ ...d, price: 38.5 }, PETR4).price).toBe(
      "A buy stop's limit price must be at or above its stop price",
    );
    expect(checkTicket({ ...d, side: 'sell', price: 38.5 }, PETR4)).toEqual({});
    expect(checkTicket({ ...d, side: 'sell' }, PETR4).price).toMatch(/at or below its stop/);
    expect(
      checkTicket({ ...d, stopPrice: 42.4, price: 42.4 }, PETR4, { minLimit: 34.65, maxLimit: 42.35 }),
    ).toEqual({
      price: "Outside today's B3 limits (34,65 to 42,35)",
      stopPrice: "Outside today's B3 limits (34,65 to 42,35)",
    });
    // A limit order ignores a stop price.
    expect(checkTicket({ ...d, type: 'limit', stopPrice: 1 }, PETR4)).toEqual({});
    setLang('pt');
    expect(checkTicket({ ...d, price: 38.5 }, PETR4).price).toBe(
      'Numa compra stop, o preço limite deve ser igual ou acima do disparo',
    );
  });

  it('property: a stop-limit on the grid passes exactly when its limit is on the right side of its stop', () => {
    fc.assert(
      fc.property(
        instrument,
        fc.constantFrom('buy' as const, 'sell' as const),
        fc.integer({ min: 1, max: 40_000 }),
        fc.integer({ min: 1, max: 40_000 }),
        (inst, side, stopTicks, limitTicks) => {
          const at = (ticks: number) => Number((ticks * inst.tickSize).toFixed(inst.priceDecimals));
          const d = {
            ticker: inst.ticker,
            side,
            type: 'stop_limit' as const,
            qty: inst.lotSize,
            price: at(limitTicks),
            stopPrice: at(stopTicks),
          };
          const right = side === 'buy' ? limitTicks >= stopTicks : limitTicks <= stopTicks;
          expect(checkTicket(d, inst)).toEqual(right ? {} : { price: expect.any(String) });
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

describe('the confirm step restates the order', () => {
  beforeEach(() => setLang('pt'));
  const base = { ticker: 'WINZ25', side: 'sell' as const, qty: 3 };
  it('with its side, quantity, ticker, type and prices, in pt-BR figures', () => {
    expect(say(ticketSummary({ ...base, type: 'limit', price: 128050 }, 0))).toBe(
      'Vender 3 WINZ25 · limitada a 128.050',
    );
    expect(say(ticketSummary({ ...base, type: 'market', price: undefined }, 0))).toBe(
      'Vender 3 WINZ25 · a mercado',
    );
    expect(
      say(
        ticketSummary(
          { ...base, ticker: 'PETR4', side: 'buy', type: 'stop_limit', stopPrice: 38.6, price: 38.7 },
          2,
        ),
      ),
    ).toBe('Comprar 3 PETR4 · stop 38,60, limite 38,70');
  });
});
