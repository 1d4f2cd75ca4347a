import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CHART, parsePeriod, readChartSettings } from './settings.ts';

describe('chart settings', () => {
  it('reads back what was kept, and the default for anything missing or malformed', () => {
    const kept = { tf: '60m', shown: { volume: false, vwap: true, ma1: false, ma2: true }, periods: [5, 50] };
    expect(readChartSettings(JSON.stringify(kept))).toEqual(kept);
    expect(readChartSettings(null)).toEqual(DEFAULT_CHART);
    expect(readChartSettings('{"tf":"1h","periods":[0,"x"],"shown":{"volume":"no"}}')).toEqual(DEFAULT_CHART);
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (raw) => {
        const s = readChartSettings(raw);
        expect(['1m', '5m', '15m', '60m', '1D']).toContain(s.tf);
        for (const p of s.periods) expect(parsePeriod(String(p))).toBe(p);
      }),
    );
  });

  it('takes a period of 1 to 200 whole bars', () => {
    expect(parsePeriod('9')).toBe(9);
    expect(parsePeriod(' 200 ')).toBe(200);
    for (const bad of ['0', '201', '9.5', '-3', '', 'nine', '1e2']) expect(parsePeriod(bad)).toBeUndefined();
  });
});
