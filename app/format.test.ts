import { describe, expect, it } from 'vitest';
import { b3Time, b3TimeMs, quantity } from './format.ts';

describe('b3TimeMs', () => {
  it('is Brasília time with milliseconds, whatever the device says', () => {
    // 13:05:09.007 UTC is 10:05:09.007 in Brasília.
    expect(b3TimeMs(Date.UTC(2026, 11, 2, 13, 5, 9, 7))).toBe('10:05:09.007');
    expect(b3TimeMs(Date.UTC(2026, 11, 2, 2, 59, 59, 999))).toBe('23:59:59.999');
    expect(b3TimeMs(Date.UTC(2026, 11, 2, 3, 0, 0, 40))).toBe('00:00:00.040');
    expect(b3TimeMs(Date.UTC(2026, 11, 2, 20, 0, 0, 0) + 0.6)).toBe('17:00:00.000');
  });

  it('agrees with the Intl time of the rest of the app to the second', () => {
    for (let ms = Date.UTC(2025, 0, 1); ms < Date.UTC(2025, 0, 3); ms += 3_599_917) {
      expect(b3TimeMs(ms).slice(0, 8)).toBe(b3Time(ms));
    }
  });
});

describe('quantity', () => {
  it('groups thousands with dots, as pt-BR does', () => {
    expect(quantity(100)).toBe('100');
    expect(quantity(12_300)).toBe('12.300');
    expect(quantity(-4_500)).toBe('-4.500');
  });
});
