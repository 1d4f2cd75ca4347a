import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { setLang } from '../i18n/i18n.ts';
import { TradeRing } from '../state/tradeRing.ts';
import { tradeAt } from '../testing/trades.ts';
import { brokerChoices, filterTape, parseMinQty, passes } from './filters.ts';

const trade = (seq: number, qty: number, buyAgent: number, sellAgent: number) =>
  tradeAt(seq, { qty, buyAgent, sellAgent });

const AGENTS = [3, 8, 85, 114];
const arbTrades = fc
  .array(
    fc.record({
      qty: fc.integer({ min: 1, max: 5_000 }),
      b: fc.constantFrom(...AGENTS),
      s: fc.constantFrom(...AGENTS),
    }),
    {
      maxLength: 300,
    },
  )
  .map((xs) => xs.map((x, i) => trade(i + 1, x.qty, x.b, x.s)));

describe('filterTape', () => {
  it('keeps exactly the trades of at least the quantity and with the broker on a side, newest first', () => {
    fc.assert(
      fc.property(
        arbTrades,
        fc.integer({ min: 0, max: 5_000 }),
        fc.option(fc.constantFrom(...AGENTS), { nil: undefined }),
        (trades, minQty, broker) => {
          const ring = new TradeRing(200);
          ring.push(trades);
          const shown = filterTape(ring, { minQty, broker });
          const expected = trades
            .slice(-200)
            .filter(
              (t) =>
                t.qty >= minQty && (broker === undefined || t.buyAgent === broker || t.sellAgent === broker),
            )
            .reverse();
          expect(shown).toEqual(expected);
          for (const t of shown) expect(passes(t, { minQty, broker })).toBe(true);
        },
      ),
    );
  });

  it('shows every trade with no filter, and nothing without a tape', () => {
    const ring = new TradeRing(10);
    ring.push([trade(1, 100, 3, 8), trade(2, 200, 85, 3)]);
    expect(filterTape(ring, { minQty: 0, broker: undefined }).map((t) => t.seq)).toEqual([2, 1]);
    expect(filterTape(undefined, { minQty: 0, broker: undefined })).toEqual([]);
  });
});

describe('parseMinQty', () => {
  it('reads plain and B3-grouped numbers, and empty as none', () => {
    expect(parseMinQty('')).toBe(0);
    expect(parseMinQty(' 500 ')).toBe(500);
    expect(parseMinQty('1.000')).toBe(1000);
    expect(parseMinQty('12.300')).toBe(12_300);
  });

  it('refuses what is not a whole quantity', () => {
    for (const bad of ['-5', '1,5', 'abc', '1e3', '9999999999']) expect(parseMinQty(bad)).toBeUndefined();
  });
});

describe('brokerChoices', () => {
  it('lists the named brokers and the codes on the tape, by name in pt-BR order', () => {
    const byId = new Map([
      [3, { id: 3, short: 'XP', name: 'XP Investimentos' }],
      [39, { id: 39, short: 'Ágora', name: 'Ágora CTVM' }],
      [72, { id: 72, short: 'Bradesco', name: 'Bradesco S.A. CTVM' }],
    ]);
    const ring = new TradeRing(10);
    ring.push([trade(1, 100, 3, 4090)]);
    expect(brokerChoices(byId, ring).map((c) => c.label)).toEqual(['4090', 'Ágora', 'Bradesco', 'XP']);
    expect(brokerChoices(byId, ring).find((c) => c.id === 4090)?.name).toBe('Corretora 4090');
    setLang('en');
    expect(brokerChoices(byId, ring).find((c) => c.id === 4090)?.name).toBe('Broker 4090');
    setLang('pt');
  });
});
