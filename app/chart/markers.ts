import { barStart } from '../../sync-server/shared/candles.ts';
import type { Candle } from '../../sync-server/shared/market.ts';
import { quantity } from '../format.ts';
import type { FillJson } from '../orders/api.ts';

// The trader's fills on the chart: a buy as ▲ under the bar it traded in, a sell as ▼ over it,
// one marker per side and bar with the quantity it adds up to.

export interface FillMarker {
  /** The bar's start, ms since the epoch. */
  readonly time: number;
  readonly side: 'buy' | 'sell';
  readonly qty: number;
  readonly fills: number;
  /** The average price of its fills. */
  readonly price: number;
}

/**
 * The markers of `ticker`'s fills on `bars` (time order) of `seconds` each: only fills inside
 * a bar shown (a fill stamped a little after the forming bar's start, by the server's clock,
 * still goes to that bar while no later bar is there).
 */
export function fillMarkers(
  fills: readonly FillJson[],
  ticker: string,
  bars: readonly Candle[],
  seconds: number,
): FillMarker[] {
  const first = bars[0];
  const last = bars.at(-1);
  if (!first || !last) return [];
  const shown = new Set(bars.map((b) => b.time));
  const by = new Map<
    string,
    { time: number; side: 'buy' | 'sell'; qty: number; fills: number; value: number }
  >();
  for (const f of fills) {
    if (f.ticker !== ticker) continue;
    const at = Date.parse(f.at);
    let time = barStart(at, seconds);
    if (time > last.time && at < last.time + 2 * seconds * 1000) time = last.time;
    if (!shown.has(time)) continue;
    const key = `${time}:${f.side}`;
    const m = by.get(key) ?? { time, side: f.side, qty: 0, fills: 0, value: 0 };
    m.qty += f.qty;
    m.fills += 1;
    m.value += f.qty * f.price;
    by.set(key, m);
  }
  return [...by.values()]
    .sort((a, b) => a.time - b.time || (a.side === 'buy' ? -1 : 1))
    .map(({ value, ...m }) => ({ ...m, price: value / m.qty }));
}

/** What a marker says beside its arrow: the quantity, as B3 writes it. */
export const markerText = (m: FillMarker) => quantity(m.qty);
