import { describe, expect, it } from 'vitest';
import { setLang } from '../i18n/i18n.ts';
import { chartTime } from './bars.ts';
import { axisTime, barTime, legendItems } from './labels.ts';

const AT = Date.UTC(2026, 11, 3, 17, 5, 9); // 14:05:09 in Brasília, 3 Dec 2026

describe('chart labels', () => {
  it('writes the axis and the crosshair in Brasília time, pt-BR', () => {
    const t = chartTime(AT);
    expect(axisTime(t, 3)).toBe('14:05');
    expect(axisTime(t, 4)).toBe('14:05:09');
    expect(axisTime(t, 2)).toBe('03/12');
    expect(axisTime(t, 1)).toBe('dez');
    expect(axisTime(t, 0)).toBe('2026');
    expect(barTime(t, '5m')).toBe('03/12 14:05');
    expect(barTime(chartTime(Date.UTC(2026, 11, 3, 3)), '1D')).toBe('03/12/2026');
  });

  it("gives the legend's prices in the instrument's decimals with pt-BR separators", () => {
    const bar = {
      time: AT,
      open: 128050,
      high: 128300,
      low: 127995,
      close: 128105,
      volume: 12_300,
      trades: 40,
    };
    setLang('en');
    const items = legendItems(bar, { vwap: 128100.4, ma: [128000, undefined] }, 0, {
      vwap: true,
      ma: [9, 21],
    });
    expect(items.map((i) => `${i.label} ${i.value}`)).toEqual([
      'O 128.050',
      'H 128.300',
      'L 127.995',
      'C 128.105',
      'Vol 12.300',
      'VWAP 128.100',
      'MA 9 128.000',
      'MA 21 —',
    ]);
    const petr = legendItems({ ...bar, open: 38.5, close: 38.52 }, undefined, 2, {
      vwap: false,
      ma: [undefined, 21],
    });
    expect(petr.map((i) => i.value)).toEqual(['38,50', '128.300,00', '127.995,00', '38,52', '12.300', '—']);
    setLang('pt');
    const pt = legendItems(bar, undefined, 2, { vwap: false, ma: [undefined, 21] });
    expect(pt.map((i) => i.label)).toEqual(['Abe', 'Máx', 'Mín', 'Fec', 'Vol', 'MM 21']);
  });
});
