import { describe, expect, it } from 'vitest';
import type { Candle } from '../../sync-server/shared/market.ts';
import type { FillJson } from '../orders/api.ts';
import { fillMarkers, markerText } from './markers.ts';

const OPEN = Date.UTC(2026, 11, 2, 13, 0, 0); // 10:00 in Brasília
const bar = (time: number): Candle => ({
  time,
  open: 38,
  high: 38.2,
  low: 37.9,
  close: 38.1,
  volume: 500,
  trades: 5,
});
let id = 0;
const fill = (side: 'buy' | 'sell', at: number, qty = 100, price = 38.1, ticker = 'PETR4'): FillJson => ({
  id: ++id,
  orderId: id,
  ticker,
  side,
  qty,
  price,
  at: new Date(at).toISOString(),
});

describe('fill markers', () => {
  const bars = [OPEN, OPEN + 300_000, OPEN + 600_000].map(bar); // 5m bars

  it('puts each fill at the bar holding it, one marker per side and bar with the sum', () => {
    const m = fillMarkers(
      [
        fill('sell', OPEN + 320_000, 200, 38.2),
        fill('buy', OPEN + 10_000, 100, 38),
        fill('buy', OPEN + 290_000, 300, 38.2),
        fill('buy', OPEN + 400_000),
        fill('buy', OPEN + 20_000, 100, 99, 'VALE3'), // another ticker's
      ],
      'PETR4',
      bars,
      300,
    );
    expect(m).toEqual([
      { time: OPEN, side: 'buy', qty: 400, fills: 2, price: (100 * 38 + 300 * 38.2) / 400 },
      { time: OPEN + 300_000, side: 'buy', qty: 100, fills: 1, price: 38.1 },
      { time: OPEN + 300_000, side: 'sell', qty: 200, fills: 1, price: 38.2 },
    ]);
    expect(markerText({ ...(m[0] as (typeof m)[0]), qty: 12_300 })).toBe('12.300');
  });

  it('leaves out fills outside the bars shown; one just past the forming bar goes to it', () => {
    const before = fill('buy', OPEN - 1);
    const forming = fill('sell', OPEN + 900_000 + 5_000); // the next bar has not come yet
    const later = fill('sell', OPEN + 3_600_000);
    expect(fillMarkers([before, forming, later], 'PETR4', bars, 300).map((x) => [x.time, x.side])).toEqual([
      [OPEN + 600_000, 'sell'],
    ]);
    expect(fillMarkers([before], 'PETR4', [], 300)).toEqual([]);
  });
});
