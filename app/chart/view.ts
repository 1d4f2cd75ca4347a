import {
  CandlestickSeries,
  createChart,
  createSeriesMarkers,
  HistogramSeries,
  type IChartApi,
  type ISeriesApi,
  type ISeriesMarkersPluginApi,
  LineSeries,
  type MouseEventParams,
  type Time,
  type UTCTimestamp,
} from 'lightweight-charts';
import { type CandlesJson, TIMEFRAMES, type Timeframe } from '../../sync-server/shared/candles.ts';
import type { Candle } from '../../sync-server/shared/market.ts';
import { quantity } from '../format.ts';
import type { FillJson } from '../orders/api.ts';
import { chartTime, LiveFold } from './bars.ts';
import { Studies } from './indicators.ts';
import { axisTime, barTime, chartPrice } from './labels.ts';
import { fillMarkers, markerText } from './markers.ts';
import type { Study } from './settings.ts';

// The chart on its canvas: candles, the volume histogram on its own scale under them, the VWAP
// and two moving averages, the trader's fills as markers. History is set once per answer; each
// live candle then changes the forming bar of every series with update(), never setData.

const UP = '#1fb26b';
const DOWN = '#e5484d';
const UP_VOLUME = 'rgba(31, 178, 107, 0.45)';
const DOWN_VOLUME = 'rgba(229, 72, 77, 0.45)';
const VWAP = '#f5a623';
const MA = ['#4da3ff', '#c77dff'] as const;

type Line = ISeriesApi<'Line'>;
const t = (ms: number) => chartTime(ms) as UTCTimestamp;

/** What the page says of the chart, for people and tests (the canvas itself is opaque). */
export interface ChartFacts {
  readonly tf: Timeframe;
  readonly bars: number;
  readonly volumeBars: number;
  readonly markers: number;
  readonly firstBar: number | undefined;
  readonly lastBar: number | undefined;
}

export class ChartView {
  private readonly api: IChartApi;
  private readonly candles: ISeriesApi<'Candlestick'>;
  private readonly volume: ISeriesApi<'Histogram'>;
  private readonly vwap: Line;
  private readonly mas: readonly [Line, Line];
  private readonly markers: ISeriesMarkersPluginApi<Time>;
  private studies: Studies;
  private fold: LiveFold | undefined;
  private tf: Timeframe = '1m';
  private fills: readonly FillJson[] = [];
  private markerCount = 0;
  private shown: Readonly<Record<Study, boolean>> = { volume: true, vwap: true, ma1: true, ma2: true };
  /** The bar under the crosshair, or undefined for the last one. */
  hovered: number | undefined;
  /** The price at the crosshair while it is on the chart (an alert at it: the toolbar's bell). */
  pointed: number | undefined;
  /** Alt+click on the chart: the price clicked (CandleChart opens an alert at it). */
  onAltClick: ((price: number) => void) | undefined;

  private version = 0;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly box: HTMLElement,
    private readonly ticker: string,
    private periods: readonly [number, number],
  ) {
    const styles = getComputedStyle(document.documentElement);
    this.api = createChart(box, {
      autoSize: true,
      layout: {
        background: { color: 'transparent' },
        textColor: styles.getPropertyValue('--muted').trim() || '#8a96a8',
        attributionLogo: false,
      },
      localization: {
        locale: 'pt-BR',
        timeFormatter: (time: Time) => barTime(time as number, this.tf),
      },
      grid: { vertLines: { visible: false }, horzLines: { color: 'rgba(128,128,128,0.12)' } },
      timeScale: {
        timeVisible: true,
        secondsVisible: false,
        tickMarkFormatter: (time: Time, kind: number) => axisTime(time as number, kind),
      },
      rightPriceScale: { scaleMargins: { top: 0.08, bottom: 0.25 } },
    });
    this.candles = this.api.addSeries(CandlestickSeries, {
      upColor: UP,
      downColor: DOWN,
      wickUpColor: UP,
      wickDownColor: DOWN,
      borderVisible: false,
    });
    // Its own scale in the bottom fifth: volume never squeezes the prices.
    this.volume = this.api.addSeries(HistogramSeries, {
      priceScaleId: 'volume',
      priceFormat: { type: 'custom', formatter: (v: number) => quantity(v), minMove: 1 },
      lastValueVisible: false,
      priceLineVisible: false,
    });
    this.api.priceScale('volume').applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    const line = (color: string) =>
      this.api.addSeries(LineSeries, {
        color,
        lineWidth: 1,
        lastValueVisible: false,
        priceLineVisible: false,
        crosshairMarkerVisible: false,
      });
    this.vwap = line(VWAP);
    this.mas = [line(MA[0]), line(MA[1])];
    this.markers = createSeriesMarkers(this.candles, []);
    this.studies = new Studies(periods);
    this.api.subscribeCrosshairMove(this.onCrosshair);
    this.api.subscribeClick(this.onClick);
  }

  /** For useSyncExternalStore: called when what the legend shows may have changed. */
  readonly subscribe = (fn: () => void) => {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  };
  readonly getVersion = () => this.version;

  barLabel(bar: Candle): string {
    return barTime(chartTime(bar.time), this.tf);
  }

  destroy() {
    this.api.unsubscribeCrosshairMove(this.onCrosshair);
    this.api.unsubscribeClick(this.onClick);
    this.api.remove();
  }

  /** Prices in the instrument's decimals and on its tick, pt-BR (WIN: 128.050). */
  setInstrument(decimals: number, tickSize: number) {
    const priceFormat = { type: 'custom' as const, formatter: chartPrice(decimals), minMove: tickSize };
    for (const s of [this.candles, this.vwap, ...this.mas]) s.applyOptions({ priceFormat });
  }

  /** A server answer for `tf`: every series set from it, then `live` (candles seen meanwhile) folded in. */
  setHistory(answer: CandlesJson, tf: Timeframe, live: readonly Candle[]) {
    this.tf = tf;
    this.studies = new Studies(this.periods);
    this.studies.set(answer.candles);
    this.drawAll();
    this.fold = new LiveFold(tf, answer.candles.at(-1), answer.liveFrom);
    for (const c of live) this.live(c);
    this.api.timeScale().scrollToRealTime();
  }

  /** A live 1-minute candle (the forming minute so far) into the forming bar. */
  live(c: Candle) {
    const bar = this.fold?.apply(c);
    if (!bar) return;
    const n = this.studies.length;
    const values = this.studies.fold(bar);
    if (!values) return;
    this.candles.update(this.candleOf(bar));
    this.volume.update(this.volumeOf(bar));
    this.vwap.update({ time: t(bar.time), value: values.vwap });
    values.ma.forEach((v, i) => {
      if (v !== undefined) this.mas[i]?.update({ time: t(bar.time), value: v });
    });
    // A new bar may hold a fill that came before it.
    if (this.studies.length !== n) this.drawMarkers();
    this.changed();
  }

  setPeriods(periods: readonly [number, number]) {
    this.periods = periods;
    const bars = this.studies.all();
    this.studies = new Studies(periods);
    this.studies.set(bars);
    this.drawStudies();
    this.changed();
  }

  setShown(shown: Readonly<Record<Study, boolean>>) {
    this.shown = shown;
    this.volume.applyOptions({ visible: shown.volume });
    // The VWAP of a daily bar is that bar's typical price: nothing to read on 1D.
    this.vwap.applyOptions({ visible: shown.vwap && this.tf !== '1D' });
    this.mas[0].applyOptions({ visible: shown.ma1 });
    this.mas[1].applyOptions({ visible: shown.ma2 });
    this.changed();
  }

  setFills(fills: readonly FillJson[]) {
    this.fills = fills;
    this.drawMarkers();
  }

  get periodsShown(): readonly (number | undefined)[] {
    return [this.shown.ma1 ? this.periods[0] : undefined, this.shown.ma2 ? this.periods[1] : undefined];
  }

  get vwapShown(): boolean {
    return this.shown.vwap && this.tf !== '1D';
  }

  get timeframe(): Timeframe {
    return this.tf;
  }

  /** The bar the legend describes: the hovered one, else the last. */
  legendIndex(): number | undefined {
    const n = this.studies.length;
    if (n === 0) return undefined;
    return this.hovered === undefined ? n - 1 : Math.min(this.hovered, n - 1);
  }

  bar(i: number) {
    return this.studies.bar(i);
  }

  values(i: number) {
    return this.studies.at(i);
  }

  facts(): ChartFacts {
    const n = this.studies.length;
    return {
      tf: this.tf,
      bars: n,
      volumeBars: this.shown.volume ? n : 0,
      markers: this.markerCount,
      firstBar: this.studies.bar(0)?.time,
      lastBar: this.studies.bar(n - 1)?.time,
    };
  }

  /** Hover, the forming bar or new data: the legend reads again, the page's facts are renewed. */
  private changed() {
    this.version++;
    const f = this.facts();
    const d = this.box.dataset;
    d.tf = f.tf;
    d.bars = String(f.bars);
    d.volumeBars = String(f.volumeBars);
    d.markers = String(f.markers);
    d.firstBar = f.firstBar === undefined ? '' : String(f.firstBar);
    d.lastBar = f.lastBar === undefined ? '' : String(f.lastBar);
    for (const fn of this.listeners) fn();
  }

  private priceAt(p: MouseEventParams<Time>): number | undefined {
    return p.point === undefined ? undefined : (this.candles.coordinateToPrice(p.point.y) ?? undefined);
  }

  private readonly onClick = (p: MouseEventParams<Time>) => {
    const price = this.priceAt(p);
    if (p.sourceEvent?.altKey && price !== undefined) this.onAltClick?.(price);
  };

  private readonly onCrosshair = (p: MouseEventParams<Time>) => {
    this.pointed = this.priceAt(p);
    // Left of the first bar or right of the last (the forming bar's room), the nearest bar.
    const n = this.studies.length;
    const next =
      p.point === undefined || p.logical === undefined || n === 0
        ? undefined
        : Math.min(n - 1, Math.max(0, Math.round(p.logical)));
    if (next === this.hovered) return;
    this.hovered = next;
    this.changed();
  };

  private candleOf(b: Candle) {
    return { time: t(b.time), open: b.open, high: b.high, low: b.low, close: b.close };
  }

  private volumeOf(b: Candle) {
    return { time: t(b.time), value: b.volume, color: b.close >= b.open ? UP_VOLUME : DOWN_VOLUME };
  }

  private drawAll() {
    const bars = this.studies.all();
    this.candles.setData(bars.map((b) => this.candleOf(b)));
    this.volume.setData(bars.map((b) => this.volumeOf(b)));
    this.drawStudies();
    this.setShown(this.shown);
    this.drawMarkers();
  }

  private drawStudies() {
    const bars = this.studies.all();
    this.vwap.setData(bars.map((b, i) => ({ time: t(b.time), value: this.studies.at(i)?.vwap as number })));
    this.mas.forEach((s, k) => {
      s.setData(
        bars.flatMap((b, i) => {
          const v = this.studies.at(i)?.ma[k];
          return v === undefined ? [] : [{ time: t(b.time), value: v }];
        }),
      );
    });
  }

  private drawMarkers() {
    const list = fillMarkers(this.fills, this.ticker, this.studies.all(), TIMEFRAMES[this.tf]);
    this.markerCount = list.length;
    this.markers.setMarkers(
      list.map((m) => ({
        time: t(m.time),
        position: m.side === 'buy' ? 'belowBar' : 'aboveBar',
        shape: m.side === 'buy' ? 'arrowUp' : 'arrowDown',
        color: m.side === 'buy' ? UP : DOWN,
        text: markerText(m),
      })),
    );
    this.changed();
  }
}
