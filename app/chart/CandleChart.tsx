import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { type CandlesJson, TIMEFRAME_NAMES, type Timeframe } from '../../sync-server/shared/candles.ts';
import type { Candle } from '../../sync-server/shared/market.ts';
import { askAlert } from '../alerts/AlertDialog.tsx';
import { AlertBell } from '../alerts/Bell.tsx';
import { api } from '../api/client.ts';
import { keys } from '../api/keys.ts';
import { errorText, type t as T, useT } from '../i18n/i18n.ts';
import { useFills } from '../orders/api.ts';
import { CacheAge } from '../screens/CacheAge.tsx';
import { isLive, useMarket } from '../state/market.ts';
import { candlesUrl } from './bars.ts';
import { legendItems } from './labels.ts';
import { MAX_PERIOD, parsePeriod, STUDIES, type Study, useChartSettings } from './settings.ts';
import { ChartView } from './view.ts';
import './chart.css';

/** Live candles kept this long (by minute) to fold into an answer that comes after them. */
const RECENT_MS = 5 * 60_000;

/**
 * The selected ticker's chart: one request per timeframe for the bars it shows (the session on
 * 1m, the stored days on 1D), then the live 1-minute candles folded into the forming bar once
 * per animation frame. Volume, VWAP and two moving averages as toggles; the trader's fills as
 * markers; a legend with the hovered (else the last) bar's OHLCV and studies.
 */
export default function CandleChart({ ticker }: { ticker: string }) {
  const box = useRef<HTMLDivElement>(null);
  const [view, setView] = useState<ChartView>();
  const { tf, shown, periods, setTf } = useChartSettings();
  const t = useT();
  const info = useMarket((s) => s.instruments[ticker]);
  const fills = useFills();
  // Live candles seen since the chart opened, by minute: an answer folds those after its liveFrom.
  const recent = useRef(new Map<number, Candle>());
  const history = useQuery({
    queryKey: keys.candles(ticker, tf),
    // The exchange's clock, when a quote has told it: the session the chart shows is its day.
    queryFn: () =>
      api<CandlesJson>(candlesUrl(ticker, tf, useMarket.getState().quotes[ticker]?.time ?? Date.now())),
    // Asked again each time the timeframe is chosen (the live bars since went to another
    // timeframe's fold); a focus of the window asks nothing.
    staleTime: 0,
    refetchOnWindowFocus: false,
  });

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const v = new ChartView(el, ticker, useChartSettings.getState().periods);
    setView(v);
    return () => {
      v.destroy();
      setView(undefined);
    };
  }, [ticker]);

  // Subscribed before the answer comes, so no minute falls between the two; drawn once a frame.
  useEffect(() => {
    if (!view) return;
    const seen = recent.current;
    const pending = new Map<number, Candle>();
    let frame = 0;
    const flush = () => {
      frame = 0;
      const list = [...pending.values()].sort((a, b) => a.time - b.time);
      pending.clear();
      for (const c of list) view.live(c);
    };
    const take = (c: Candle) => {
      seen.set(c.time, c);
      for (const k of seen.keys()) if (k < c.time - RECENT_MS) seen.delete(k);
      pending.set(c.time, c);
      if (!frame) frame = requestAnimationFrame(flush);
    };
    const now = useMarket.getState().liveCandles[ticker];
    if (now) seen.set(now.time, now);
    const stop = useMarket.subscribe((s, prev) => {
      const c = s.liveCandles[ticker];
      if (c && c !== prev.liveCandles[ticker]) take(c);
    });
    return () => {
      stop();
      cancelAnimationFrame(frame);
    };
  }, [view, ticker]);

  useEffect(() => {
    const answer = history.data;
    if (!view || !answer || answer.tf !== tf) return;
    // Without a live candle at the server, the next ones are all new: none seen before counts.
    const from = answer.liveFrom;
    const live =
      from === null
        ? []
        : [...recent.current.values()].filter((c) => c.time >= from).sort((a, b) => a.time - b.time);
    view.setHistory(answer, tf, live);
  }, [view, history.data, tf]);

  // Back from a dropped link: the minutes missed are only in the history.
  const { refetch } = history;
  useEffect(() => {
    let wasLive = false;
    let dropped = false;
    return useMarket.subscribe((s) => {
      const live = isLive(s.link);
      if (wasLive && !live) dropped = true;
      if (live && dropped) {
        dropped = false;
        void refetch();
      }
      wasLive = live;
    });
  }, [refetch]);

  useEffect(() => {
    if (view && info) view.setInstrument(info.priceDecimals, info.tickSize);
  }, [view, info]);
  useEffect(() => view?.setShown(shown), [view, shown]);
  useEffect(() => view?.setPeriods(periods), [view, periods]);
  useEffect(() => view?.setFills(fills.data ?? []), [view, fills.data]);
  useEffect(() => {
    if (!view) return;
    view.onAltClick = (price) => askAlert(ticker, price);
    return () => {
      view.onAltClick = undefined;
    };
  }, [view, ticker]);

  return (
    <section className="panel chart" aria-labelledby="chart-title">
      <h2 id="chart-title">
        {ticker}
        <CacheAge query={history} />
      </h2>
      <div className="chart-tools">
        <fieldset className="seg small">
          <legend className="sr-only">{t('chart.timeframe')}</legend>
          {TIMEFRAME_NAMES.map((name: Timeframe) => (
            <button
              key={name}
              type="button"
              aria-pressed={tf === name}
              className={tf === name ? 'on' : ''}
              onClick={() => setTf(name)}
            >
              {name}
            </button>
          ))}
        </fieldset>
        <StudyToggles />
        <Periods />
        {/* The crosshair's price while it is on the chart (a touch leaves it there), else the last. */}
        <AlertBell
          label={t('priceAlerts.createOnChart', { ticker })}
          title={t('priceAlerts.createOnChartTitle')}
          onClick={() => askAlert(ticker, view?.pointed)}
        />
        {history.isError && (
          <small className="error">{t('chart.notLoaded', { reason: errorText(history.error) })}</small>
        )}
      </div>
      <div className="chart-frame">
        <div ref={box} className="chart-box" data-testid="chart" />
        {view && <Legend view={view} decimals={info?.priceDecimals ?? 2} />}
      </div>
    </section>
  );
}

const STUDY_LABELS: Record<Study, (t: typeof T, periods: readonly [number, number]) => string> = {
  volume: (t) => t('chart.vol'),
  vwap: () => 'VWAP',
  ma1: (t, p) => t('chart.ma', { period: p[0] }),
  ma2: (t, p) => t('chart.ma', { period: p[1] }),
};

function StudyToggles() {
  const { shown, periods, toggle } = useChartSettings();
  const t = useT();
  return (
    <fieldset className="seg small">
      <legend className="sr-only">{t('chart.studies')}</legend>
      {STUDIES.map((s) => (
        <button
          key={s}
          type="button"
          aria-pressed={shown[s]}
          className={shown[s] ? 'on' : ''}
          data-study={s}
          onClick={() => toggle(s)}
        >
          {STUDY_LABELS[s](t, periods)}
        </button>
      ))}
    </fieldset>
  );
}

/** The two averages' periods, typed; a period that is not 1 to 200 bars is refused where it is typed. */
function Periods() {
  const { periods, setPeriod } = useChartSettings();
  const [text, setText] = useState<[string, string]>([String(periods[0]), String(periods[1])]);
  useEffect(() => setText([String(periods[0]), String(periods[1])]), [periods]);
  const bad = text.map((s) => parsePeriod(s) === undefined);
  const t = useT();
  return (
    <details className="chart-periods">
      <summary>{t('chart.periods')}</summary>
      {([0, 1] as const).map((i) => (
        <label key={i}>
          {t('chart.maField', { n: i + 1 })}
          <input
            inputMode="numeric"
            value={text[i]}
            aria-invalid={bad[i]}
            onChange={(e) => {
              const next: [string, string] = [...text];
              next[i] = e.target.value;
              setText(next);
              const p = parsePeriod(e.target.value);
              if (p !== undefined) setPeriod(i, p);
            }}
          />
        </label>
      ))}
      {bad.some(Boolean) && <small className="error">{t('chart.badPeriod', { max: MAX_PERIOD })}</small>}
    </details>
  );
}

/** The hovered bar (else the last) as the legend reads it; re-rendered when the view says so. */
function Legend({ view, decimals }: { view: ChartView; decimals: number }) {
  useSyncExternalStore(view.subscribe, view.getVersion);
  useT();
  const i = view.legendIndex();
  const bar = i === undefined ? undefined : view.bar(i);
  if (i === undefined || !bar) return <div className="chart-legend" data-testid="chart-legend" />;
  const items = legendItems(bar, view.values(i), decimals, { vwap: view.vwapShown, ma: view.periodsShown });
  return (
    <div
      className={`chart-legend ${bar.close >= bar.open ? 'up' : 'down'}`}
      data-testid="chart-legend"
      data-hovered={view.hovered !== undefined}
    >
      <time>{view.barLabel(bar)}</time>
      {items.map((it) => (
        <span key={it.key} data-item={it.key}>
          {it.label} <b>{it.value}</b>
        </span>
      ))}
    </div>
  );
}
