import { create } from 'zustand';
import { TIMEFRAME_NAMES, type Timeframe } from '../../sync-server/shared/candles.ts';

// What the trader set on the chart (timeframe, studies shown, the two averages' periods), kept on
// this device in localStorage: read synchronously, so the chart opens as it was left.

export type Study = 'volume' | 'vwap' | 'ma1' | 'ma2';
export const STUDIES: readonly Study[] = ['volume', 'vwap', 'ma1', 'ma2'];

export interface ChartSettings {
  readonly tf: Timeframe;
  readonly shown: Readonly<Record<Study, boolean>>;
  /** The periods of the two moving averages of closes, in bars. */
  readonly periods: readonly [number, number];
}

export const DEFAULT_CHART: ChartSettings = Object.freeze({
  tf: '1m',
  shown: Object.freeze({ volume: true, vwap: true, ma1: true, ma2: true }),
  periods: Object.freeze([9, 21]) as unknown as readonly [number, number],
});

export const MAX_PERIOD = 200;
const KEY = 'tape.chart';

/** A period as typed: a whole number of bars, 1 to MAX_PERIOD, else undefined. */
export function parsePeriod(text: string): number | undefined {
  if (!/^\d{1,3}$/.test(text.trim())) return undefined;
  const n = Number(text);
  return n >= 1 && n <= MAX_PERIOD ? n : undefined;
}

/** Settings read back from storage: whatever is missing or malformed is the default. */
export function readChartSettings(raw: string | null): ChartSettings {
  let v: Partial<Record<keyof ChartSettings, unknown>> = {};
  try {
    const parsed: unknown = raw === null ? {} : JSON.parse(raw);
    if (parsed && typeof parsed === 'object') v = parsed as typeof v;
  } catch {
    // Unreadable: the defaults.
  }
  const tf = TIMEFRAME_NAMES.includes(v.tf as Timeframe) ? (v.tf as Timeframe) : DEFAULT_CHART.tf;
  const shownIn = (v.shown && typeof v.shown === 'object' ? v.shown : {}) as Record<string, unknown>;
  const shown = Object.fromEntries(
    STUDIES.map((s) => [s, typeof shownIn[s] === 'boolean' ? shownIn[s] : DEFAULT_CHART.shown[s]]),
  ) as Record<Study, boolean>;
  const p = Array.isArray(v.periods) ? v.periods : [];
  const period = (i: 0 | 1) => parsePeriod(String(p[i] ?? '')) ?? DEFAULT_CHART.periods[i];
  return { tf, shown, periods: [period(0), period(1)] };
}

interface ChartSettingsState extends ChartSettings {
  setTf(tf: Timeframe): void;
  toggle(study: Study): void;
  setPeriod(which: 0 | 1, period: number): void;
}

const storage = (): Storage | undefined => (typeof localStorage === 'undefined' ? undefined : localStorage);

export const useChartSettings = create<ChartSettingsState>((set, get) => {
  const save = (patch: Partial<ChartSettings>) => {
    set(patch);
    const { tf, shown, periods } = get();
    try {
      storage()?.setItem(KEY, JSON.stringify({ tf, shown, periods }));
    } catch {
      // Storage full or refused: the setting holds for this session.
    }
  };
  return {
    ...readChartSettings(storage()?.getItem(KEY) ?? null),
    setTf: (tf) => save({ tf }),
    toggle: (study) => save({ shown: { ...get().shown, [study]: !get().shown[study] } }),
    setPeriod: (which, period) => {
      const periods: [number, number] = [...get().periods];
      periods[which] = period;
      save({ periods });
    },
  };
});
