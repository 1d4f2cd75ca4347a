import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  b3HourMinute,
  b3Time,
  b3TimeMs,
  parsePercentPpm,
  parsePrice,
  parseReais,
  percentOfPpm,
  price,
  quantity,
  reaisInput,
} from './format.ts';

describe('b3TimeMs', () => {
  it('is Brasília time with milliseconds, whatever the device says', () => {
    // 13:05:09.007 UTC is 10:05:09.007 in Brasília.
    expect(b3TimeMs(Date.UTC(2026, 11, 2, 13, 5, 9, 7))).toBe('10:05:09.007');
    expect(b3TimeMs(Date.UTC(2026, 11, 2, 2, 59, 59, 999))).toBe('23:59:59.999');
    expect(b3TimeMs(Date.UTC(2026, 11, 2, 3, 0, 0, 40))).toBe('00:00:00.040');
    expect(b3TimeMs(Date.UTC(2026, 11, 2, 20, 0, 0, 0) + 0.6)).toBe('17:00:00.000');
  });

  it("property: to the second, b3Time is Intl's São Paulo time of the same instant, number or text", () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2019, 11, 1), max: Date.UTC(2035, 0, 1) }), (ms) => {
        const intl = new Date(ms).toLocaleTimeString('pt-BR', { timeZone: 'America/Sao_Paulo' });
        expect(b3Time(ms)).toBe(intl);
        expect(b3Time(new Date(ms).toISOString())).toBe(intl);
        expect(b3TimeMs(ms).slice(0, 8)).toBe(intl);
      }),
      { numRuns: 500 },
    );
  });
});

describe('price', () => {
  it('property: what toLocaleString pt-BR gives with the decimals, from one formatter per decimals', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e9, max: 1e9, noNaN: true }), fc.integer({ min: 0, max: 4 }), (v, d) => {
        const ref = v.toLocaleString('pt-BR', { minimumFractionDigits: d, maximumFractionDigits: d });
        expect(price(v, d)).toBe(ref);
      }),
    );
    expect(price(null)).toBe('—');
    expect(price(128050, 0)).toBe('128.050');
  });
});

describe('quantity', () => {
  it('groups thousands with dots, as pt-BR does', () => {
    expect(quantity(100)).toBe('100');
    expect(quantity(12_300)).toBe('12.300');
    expect(quantity(-4_500)).toBe('-4.500');
  });
});

describe('parsePrice', () => {
  it('reads pt-BR and plain decimals alike', () => {
    expect(parsePrice('38,52')).toBe(38.52);
    expect(parsePrice('38.52')).toBe(38.52);
    expect(parsePrice(' R$ 38,52 ')).toBe(38.52);
    expect(parsePrice('38')).toBe(38);
    expect(parsePrice('0,5')).toBe(0.5);
  });

  it('reads pt-BR thousands dots, a lone one too when the instrument has fewer than three decimals', () => {
    expect(parsePrice('128.050', 0)).toBe(128_050);
    expect(parsePrice('128.050,00', 0)).toBe(128_050);
    expect(parsePrice('1.234.567', 2)).toBe(1_234_567);
    expect(parsePrice('5.400,5', 1)).toBe(5_400.5);
    expect(parsePrice('5.400', 1)).toBe(5_400);
    // Three decimals quoted: the lone dot is a decimal point.
    expect(parsePrice('1.234', 3)).toBe(1.234);
  });

  it('reads the lone dot before three digits the way nearer the last price', () => {
    expect(parsePrice('128.050', 0, 128_000)).toBe(128_050);
    expect(parsePrice('5.400', 1, 5_399.5)).toBe(5_400);
    // On PETR4 at 38,50, "38.505" is 38.505 (off the tick: the ticket says so), not 38505.
    expect(parsePrice('38.505', 2, 38.5)).toBe(38.505);
    expect(parsePrice('1.000', 2, 990)).toBe(1_000);
    expect(parsePrice('1.000', 2, 1.2)).toBe(1);
  });

  it('refuses what it cannot read without guessing', () => {
    for (const bad of ['', ',', '.', '38,5,2', '3.8,52', '38,52.1', '1.23.4', 'abc', '38a', '-1', '1e3'])
      expect(parsePrice(bad), bad).toBeNaN();
  });

  it('property: every price as the app shows it reads back as itself', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.integer({ min: 0, max: 2 }),
        (units, decimals) => {
          const v = units / 10 ** decimals;
          expect(parsePrice(price(v, decimals), decimals)).toBe(v);
          expect(parsePrice(price(v, decimals), decimals, v)).toBe(v);
          // And typed the plain way, with a decimal point and no grouping.
          if (decimals > 0) expect(parsePrice(v.toFixed(decimals), decimals)).toBe(v);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('property: any text is a finite non-negative price or NaN, never a throw', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789.,R$ -e'), maxLength: 14 }), (text) => {
        const p = parsePrice(text);
        expect(Number.isNaN(p) || (Number.isFinite(p) && p >= 0)).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('parseReais', () => {
  it('reads reais as typed into centavos', () => {
    expect(parseReais('50.000,00')).toBe(5_000_000);
    expect(parseReais('50000')).toBe(5_000_000);
    expect(parseReais('R$ 1.234,5')).toBe(123_450);
    expect(parseReais('1234.50')).toBe(123_450);
    for (const bad of ['', 'abc', '1,234', '-5', '1,2,3']) expect(parseReais(bad), bad).toBeNaN();
  });

  it('property: what the field shows reads back as the same centavos', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000_000 }), (cents) => {
        expect(parseReais(reaisInput(cents))).toBe(cents);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('parsePercentPpm', () => {
  it('reads a percent as a desk types it into parts per million, exactly', () => {
    expect(parsePercentPpm('0,0230')).toBe(230);
    expect(parsePercentPpm('0.023 %')).toBe(230);
    expect(parsePercentPpm('0,005')).toBe(50);
    expect(parsePercentPpm('1')).toBe(10_000);
    for (const bad of ['', 'abc', '0,00001', '-0,02', '1,2,3']) expect(parsePercentPpm(bad), bad).toBeNaN();
  });

  it('property: what the field shows reads back as the same rate', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), (ppm) => {
        expect(parsePercentPpm(percentOfPpm(ppm))).toBe(ppm);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('b3HourMinute', () => {
  it('is Brasília time whatever the device says', () => {
    expect(b3HourMinute(Date.UTC(2026, 11, 2, 13, 5))).toBe('10:05');
    expect(b3HourMinute(Date.UTC(2026, 11, 2, 2, 59))).toBe('23:59');
  });
});
