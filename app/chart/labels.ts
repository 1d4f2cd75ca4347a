import type { Timeframe } from '../../sync-server/shared/candles.ts';
import type { Candle } from '../../sync-server/shared/market.ts';
import { price, quantity } from '../format.ts';
import { t } from '../i18n/i18n.ts';
import type { StudyValues } from './indicators.ts';

// What the chart writes: axis times in Brasília (the chart's times are shifted, bars.ts
// chartTime, so their UTC fields are Brasília's), and the legend's OHLCV and studies in pt-BR.

const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);
const MONTHS = ['jan', 'fev', 'mar', 'abr', 'mai', 'jun', 'jul', 'ago', 'set', 'out', 'nov', 'dez'];

/** The time axis's label of a tick mark; `kind` is the library's TickMarkType (0 year … 4 seconds). */
export function axisTime(chartSeconds: number, kind: number): string {
  const d = new Date(chartSeconds * 1000);
  if (kind === 0) return String(d.getUTCFullYear());
  if (kind === 1) return MONTHS[d.getUTCMonth()] as string;
  if (kind === 2) return `${two(d.getUTCDate())}/${two(d.getUTCMonth() + 1)}`;
  const hm = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
  return kind === 4 ? `${hm}:${two(d.getUTCSeconds())}` : hm;
}

/** A bar's time as the crosshair and the legend say it: "03/12 14:05", a day "03/12/2026". */
export function barTime(chartSeconds: number, tf: Timeframe): string {
  const d = new Date(chartSeconds * 1000);
  const day = `${two(d.getUTCDate())}/${two(d.getUTCMonth() + 1)}`;
  return tf === '1D'
    ? `${day}/${d.getUTCFullYear()}`
    : `${day} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
}

/**
 * format.ts's price, remembered: the chart formats its axis's few tick values and the last price
 * on every frame it draws, and each call of Intl's formatting costs (51 ms a second in a profile
 * at 1,000 trades/s before). A bounded map, emptied when full.
 */
export function chartPrice(decimals: number, max = 2_000): (v: number) => string {
  const seen = new Map<number, string>();
  return (v) => {
    let s = seen.get(v);
    if (s === undefined) {
      if (seen.size >= max) seen.clear();
      s = price(v, decimals);
      seen.set(v, s);
    }
    return s;
  };
}

export interface LegendItem {
  readonly key: string;
  readonly label: string;
  readonly value: string;
}

/** The legend of one bar: O H L C and volume, then each study shown, prices in the instrument's decimals. */
export function legendItems(
  bar: Candle,
  values: StudyValues | undefined,
  decimals: number,
  studies: { vwap: boolean; ma: readonly (number | undefined)[] },
): LegendItem[] {
  const p = (v: number | undefined) => (v === undefined ? '—' : price(v, decimals));
  const items: LegendItem[] = [
    { key: 'open', label: t('chart.open'), value: p(bar.open) },
    { key: 'high', label: t('chart.high'), value: p(bar.high) },
    { key: 'low', label: t('chart.low'), value: p(bar.low) },
    { key: 'close', label: t('chart.close'), value: p(bar.close) },
    { key: 'volume', label: t('chart.vol'), value: quantity(bar.volume) },
  ];
  if (studies.vwap) items.push({ key: 'vwap', label: 'VWAP', value: p(values?.vwap) });
  studies.ma.forEach((period, i) => {
    if (period !== undefined)
      items.push({ key: `ma${i + 1}`, label: t('chart.ma', { period }), value: p(values?.ma[i]) });
  });
  return items;
}
