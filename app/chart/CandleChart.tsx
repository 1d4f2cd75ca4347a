import { useQuery } from '@tanstack/react-query';
import {
  type CandlestickData,
  CandlestickSeries,
  createChart,
  type IChartApi,
  type ISeriesApi,
  type UTCTimestamp,
} from 'lightweight-charts';
import { useEffect, useRef, useState } from 'react';
import type { Candle } from '../../sync-server/shared/market.ts';
import { api } from '../api/client.ts';
import { keys } from '../api/keys.ts';
import { CacheAge } from '../screens/CacheAge.tsx';
import { useMarket } from '../state/market.ts';

const TIMEFRAMES = { '1m': 60, '5m': 300, '15m': 900, '1h': 3600 } as const;
type Tf = keyof typeof TIMEFRAMES;
const BARS = 300;
// The chart library draws UTC; B3 trades on Brasília time (UTC−3, no daylight saving since 2019).
const B3_OFFSET_S = -3 * 3600;

const bar = (c: Candle, tfSeconds: number): CandlestickData<UTCTimestamp> => ({
  time: (Math.floor(c.time / 1000 / tfSeconds) * tfSeconds + B3_OFFSET_S) as UTCTimestamp,
  open: c.open,
  high: c.high,
  low: c.low,
  close: c.close,
});

/** Candles from REST history, then the forming bar from the live 1-minute candles channel. */
export default function CandleChart({ ticker }: { ticker: string }) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<{ api: IChartApi; series: ISeriesApi<'Candlestick'> }>(null);
  const last = useRef<CandlestickData<UTCTimestamp>>(undefined);
  const [tf, setTf] = useState<Tf>('1m');
  const seconds = TIMEFRAMES[tf];
  const history = useQuery({
    queryKey: keys.candles(ticker, tf),
    queryFn: () => {
      const to = Date.now() + seconds * 1000;
      const from = to - BARS * seconds * 1000;
      return api<{ candles: Candle[] }>(
        `/api/v1/market/candles?ticker=${ticker}&tf=${tf}&from=${from}&to=${to}`,
      ).then((r) => r.candles);
    },
    staleTime: 60_000,
  });

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const styles = getComputedStyle(document.documentElement);
    const api = createChart(el, {
      autoSize: true,
      layout: {
        background: { color: 'transparent' },
        textColor: styles.getPropertyValue('--muted').trim() || '#8a96a8',
      },
      grid: { vertLines: { visible: false }, horzLines: { color: 'rgba(128,128,128,0.12)' } },
      timeScale: { timeVisible: true, secondsVisible: false },
    });
    const series = api.addSeries(CandlestickSeries, {
      upColor: '#1fb26b',
      downColor: '#e5484d',
      wickUpColor: '#1fb26b',
      wickDownColor: '#e5484d',
      borderVisible: false,
    });
    chart.current = { api, series };
    return () => {
      chart.current = null;
      api.remove();
    };
  }, []);

  useEffect(() => {
    const bars = (history.data ?? []).map((c) => bar(c, seconds));
    chart.current?.series.setData(bars);
    last.current = bars.at(-1);
  }, [history.data, seconds]);

  // The live 1-minute bar folds into the forming bar of the chosen timeframe.
  useEffect(
    () =>
      useMarket.subscribe((s, prev) => {
        const c = s.liveCandles[ticker];
        if (!c || c === prev.liveCandles[ticker] || !chart.current) return;
        const b = bar(c, seconds);
        const cur = last.current;
        const next =
          cur && cur.time === b.time
            ? { ...cur, high: Math.max(cur.high, b.high), low: Math.min(cur.low, b.low), close: b.close }
            : b;
        if (cur && next.time < cur.time) return; // an old bar: the chart only moves forward
        chart.current.series.update(next);
        last.current = next;
      }),
    [ticker, seconds],
  );

  return (
    <section className="panel chart" aria-labelledby="chart-title">
      <h2 id="chart-title">
        {ticker}
        <fieldset className="seg small">
          <legend className="sr-only">Timeframe</legend>
          {(Object.keys(TIMEFRAMES) as Tf[]).map((t) => (
            <button
              key={t}
              type="button"
              aria-pressed={tf === t}
              className={tf === t ? 'on' : ''}
              onClick={() => setTf(t)}
            >
              {t}
            </button>
          ))}
        </fieldset>
        <CacheAge query={history} />
      </h2>
      <div ref={box} className="chart-box" data-testid="chart" />
    </section>
  );
}
