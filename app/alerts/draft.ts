import type {
  AlertJson,
  AlertKind,
  AlertSettingsJson,
  NewAlertJson,
  OrderAlertEvent,
} from '../../sync-server/shared/alerts.ts';
import { B3_UTC_OFFSET_MS, type InstrumentInfo } from '../../sync-server/shared/market.ts';
import { parsePrice, price } from '../format.ts';
import { type Message, msg } from '../i18n/i18n.ts';
import { isChangeKind, isPriceKind } from './words.ts';

// The create and edit forms' fields (and the notification settings') read into what REST takes. Only what is plainly wrong is
// refused here (an empty level, letters, no events); the tick grid, the day's limits and a level
// already passed are the server's to check, with the quote it has.

/** The server's cooldown when none is given (sync-server/alerts/service.ts); it checks the range. */
export const DEFAULT_COOLDOWN_S = 300;

export type ExpiryChoice = 'session' | 'date' | 'never';

/** A PATCH /api/v1/alerts/:id body. */
export interface AlertPatch {
  readonly threshold?: number;
  readonly orderEvents?: readonly OrderAlertEvent[];
  readonly repeat?: boolean;
  readonly cooldownS?: number;
  readonly expiry?: NonNullable<NewAlertJson['expiry']>;
  readonly note?: string | null;
  readonly status?: 'active' | 'paused';
}

/** The form as typed. */
export interface AlertFields {
  readonly kind: AlertKind;
  /** Empty: every ticker (order alerts only). */
  readonly ticker: string;
  readonly threshold: string;
  readonly events: readonly OrderAlertEvent[];
  readonly repeat: boolean;
  /** Seconds. */
  readonly cooldown: string;
  readonly expiry: ExpiryChoice;
  /** `YYYY-MM-DDTHH:MM` (a datetime-local input), Brasília time. */
  readonly expiryAt: string;
  readonly note: string;
}

type Read<T> = { readonly value: T } | { readonly problem: Message };
const problem = (p: Message) => ({ problem: p });

/** A price on the instrument's tick grid (the chart's crosshair is anywhere between two ticks). */
export const onTick = (p: number, tick: number, digits: number) =>
  Number((Math.round(p / tick) * tick).toFixed(digits));

/** Above when the level is over the last price, below when under: the way the price must go. */
export const kindFor = (level: number, last: number | undefined): 'price_above' | 'price_below' =>
  last !== undefined && level < last ? 'price_below' : 'price_above';

/** A Brasília wall-clock time (`2026-12-20T18:00`) as an ISO instant; undefined when it is not one. */
export function brasiliaInstant(local: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(local.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi] = m.map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi) - B3_UTC_OFFSET_MS;
  const back = new Date(ms + B3_UTC_OFFSET_MS);
  // 2026-02-31 is not a day: Date.UTC would roll it into March.
  if (back.getUTCDate() !== d || back.getUTCMonth() !== mo - 1 || h > 23 || mi > 59) return undefined;
  return new Date(ms).toISOString();
}

/** An instant as a datetime-local input shows it in Brasília time: the inverse of brasiliaInstant. */
export const brasiliaLocal = (at: string | number) =>
  new Date(new Date(at).getTime() + B3_UTC_OFFSET_MS).toISOString().slice(0, 16);

/** The level typed: a price (pt-BR or not), a signed percent, or a whole quantity. */
export function readThreshold(
  kind: AlertKind,
  text: string,
  inst: InstrumentInfo | undefined,
  last: number | undefined,
): Read<number> {
  const s = text.trim();
  if (isPriceKind(kind)) {
    const v = parsePrice(s, inst?.priceDecimals ?? 2, last);
    return Number.isFinite(v) && v > 0 ? { value: v } : problem(msg('priceAlerts.problem.price'));
  }
  if (isChangeKind(kind)) {
    const m = /^([+\-−]?)\s*([^%]*?)\s*%?$/.exec(s);
    const v = m ? parsePrice(m[2] ?? '', 2) : Number.NaN;
    const signed = m?.[1] === '-' || m?.[1] === '−' ? -v : v;
    return Number.isFinite(signed) && signed !== 0 && Math.abs(signed) < 100
      ? { value: signed }
      : problem(msg('priceAlerts.problem.change'));
  }
  const v = parsePrice(s, 0);
  return Number.isInteger(v) && v > 0 ? { value: v } : problem(msg('priceAlerts.problem.volume'));
}

function readCooldown(text: string): Read<number> {
  const n = Number(text.trim());
  return text.trim() !== '' && Number.isInteger(n) && n >= 0
    ? { value: n }
    : problem(msg('priceAlerts.problem.cooldown'));
}

function readExpiry(choice: ExpiryChoice, at: string): Read<NonNullable<NewAlertJson['expiry']>> {
  if (choice !== 'date') return { value: { kind: choice } };
  const iso = brasiliaInstant(at);
  return iso ? { value: { kind: 'date', at: iso } } : problem(msg('priceAlerts.problem.expiry'));
}

const noteOf = (text: string) => text.trim() || null;

/** The new alert the form describes, or the first thing to fix in it. */
export function readNewAlert(
  f: AlertFields,
  inst: InstrumentInfo | undefined,
  last: number | undefined,
): Read<NewAlertJson> {
  const order = f.kind === 'order';
  if (!order && !f.ticker) return problem(msg('priceAlerts.problem.ticker'));
  if (order && f.events.length === 0) return problem(msg('priceAlerts.problem.events'));
  const level = order ? undefined : readThreshold(f.kind, f.threshold, inst, last);
  if (level && 'problem' in level) return level;
  const cooldown = f.repeat ? readCooldown(f.cooldown) : undefined;
  if (cooldown && 'problem' in cooldown) return cooldown;
  const expiry = readExpiry(f.expiry, f.expiryAt);
  if ('problem' in expiry) return expiry;
  const note = noteOf(f.note);
  return {
    value: {
      kind: f.kind,
      ticker: f.ticker || null,
      ...(level ? { threshold: level.value } : {}),
      ...(order ? { orderEvents: f.events } : {}),
      repeat: f.repeat,
      ...(cooldown ? { cooldownS: cooldown.value } : {}),
      expiry: expiry.value,
      ...(note ? { note } : {}),
    },
  };
}

/** An alert's fields as the edit form starts from them. */
export function fieldsOf(a: AlertJson, digits: number): AlertFields {
  return {
    kind: a.kind,
    ticker: a.ticker ?? '',
    threshold:
      a.threshold === null ? '' : isPriceKind(a.kind) ? price(a.threshold, digits) : String(a.threshold),
    events: a.orderEvents ?? [],
    repeat: a.repeat,
    cooldown: String(a.repeat ? a.cooldownS : DEFAULT_COOLDOWN_S),
    expiry: a.expiry.kind,
    expiryAt: a.expiry.kind === 'never' ? '' : brasiliaLocal(a.expiry.at),
    note: a.note ?? '',
  };
}

/** What the edit changed, and only that: an untouched session expiry is not renewed. */
export function readPatch(
  a: AlertJson,
  f: AlertFields,
  inst: InstrumentInfo | undefined,
  last: number | undefined,
): Read<AlertPatch> {
  const start = fieldsOf(a, inst?.priceDecimals ?? 2);
  const patch: { -readonly [K in keyof AlertPatch]: AlertPatch[K] } = {};
  if (a.kind === 'order') {
    if (f.events.length === 0) return problem(msg('priceAlerts.problem.events'));
    if ([...f.events].sort().join() !== [...start.events].sort().join()) patch.orderEvents = f.events;
  } else if (f.threshold.trim() !== start.threshold) {
    const level = readThreshold(a.kind, f.threshold, inst, last);
    if ('problem' in level) return level;
    if (level.value !== a.threshold) patch.threshold = level.value;
  }
  if (f.repeat !== a.repeat) patch.repeat = f.repeat;
  if (f.repeat && (f.cooldown.trim() !== start.cooldown || f.repeat !== a.repeat)) {
    const cooldown = readCooldown(f.cooldown);
    if ('problem' in cooldown) return cooldown;
    patch.repeat = true;
    patch.cooldownS = cooldown.value;
  }
  if (f.expiry !== start.expiry || (f.expiry === 'date' && f.expiryAt !== start.expiryAt)) {
    const expiry = readExpiry(f.expiry, f.expiryAt);
    if ('problem' in expiry) return expiry;
    patch.expiry = expiry.value;
  }
  if (noteOf(f.note) !== a.note) patch.note = noteOf(f.note);
  return { value: patch };
}

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

/** Quiet hours (both or neither, Brasília HH:MM) and the rate, as the server takes them. */
export function readAlertSettings(from: string, to: string, perMinute: string): Read<AlertSettingsJson> {
  const n = Number(perMinute);
  if (perMinute.trim() === '' || !Number.isInteger(n) || n < 1 || n > 60)
    return problem(msg('priceAlerts.settings.badRate'));
  if (!from && !to) return { value: { quietFrom: null, quietTo: null, perMinute: n } };
  if (!HHMM.test(from) || !HHMM.test(to)) return problem(msg('priceAlerts.settings.quietBoth'));
  return { value: { quietFrom: from, quietTo: to, perMinute: n } };
}
