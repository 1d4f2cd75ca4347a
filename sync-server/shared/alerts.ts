import { B3_UTC_OFFSET_MS } from './market.ts';

// Price and order alerts: what REST, the /ws `alert` message and a Web Push payload carry,
// shared by the server (alerts/) and the app. The server evaluates them (alerts/evaluator.ts),
// so they fire with the app closed.

/**
 * What an alert watches:
 * - `price_above` / `price_below`: the last price crosses the level (`threshold`, a price) upwards
 *   / downwards;
 * - `change_above` / `change_below`: the day's change from the previous close crosses
 *   `threshold` percent (+3 → at or past +3 %; −2 → at or past −2 %);
 * - `volume_above`: the session's traded quantity reaches `threshold`;
 * - `order`: one of the user's account's orders reached one of `orderEvents` (any ticker when
 *   `ticker` is null).
 */
export const ALERT_KINDS = [
  'price_above',
  'price_below',
  'change_above',
  'change_below',
  'volume_above',
  'order',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** The order events an `order` alert can follow; `cancelled` is a cancel Tape did not ask for. */
export const ORDER_ALERT_EVENTS = ['filled', 'partially_filled', 'rejected', 'cancelled'] as const;
export type OrderAlertEvent = (typeof ORDER_ALERT_EVENTS)[number];

/** `active`: watched; `paused` by its user; `fired`: a one-shot that fired; `expired`. */
export const ALERT_STATUSES = ['active', 'paused', 'fired', 'expired'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** When an alert stops: the end of the B3 session it was made in, a given instant, or never. */
export type AlertExpiry =
  | { readonly kind: 'session'; readonly at: string }
  | { readonly kind: 'date'; readonly at: string }
  | { readonly kind: 'never' };

/** An alert as REST shows it to its owner. */
export interface AlertJson {
  readonly id: number;
  /** The id the device gave it (offline creation is retried with it, and made once). */
  readonly clientId: string | null;
  readonly kind: AlertKind;
  /** Null only for an `order` alert on every ticker. */
  readonly ticker: string | null;
  /** A price (price kinds, on the tick grid), a percent (change kinds), a quantity (volume); null for `order`. */
  readonly threshold: number | null;
  /** `order` alerts: the events followed; null for the others. */
  readonly orderEvents: readonly OrderAlertEvent[] | null;
  /** Fires again after `cooldownS` (a new crossing after it), instead of once. */
  readonly repeat: boolean;
  readonly cooldownS: number;
  readonly expiry: AlertExpiry;
  readonly status: AlertStatus;
  readonly note: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly lastFiredAt: string | null;
  readonly fired: number;
}

/** What a user sends to make an alert (POST /api/v1/alerts). */
export interface NewAlertJson {
  readonly clientId?: string;
  readonly kind: AlertKind;
  readonly ticker?: string | null;
  readonly threshold?: number | null;
  readonly orderEvents?: readonly OrderAlertEvent[];
  readonly repeat?: boolean;
  readonly cooldownS?: number;
  /** `session` (the default), `never`, or `date` with `at` (ISO). */
  readonly expiry?: { readonly kind: 'session' | 'never' } | { readonly kind: 'date'; readonly at: string };
  readonly note?: string | null;
}

/** The answer to a create: the alert, and the level asked when it was snapped to the tick grid. */
export interface CreatedAlertJson {
  readonly alert: AlertJson;
  readonly snappedFrom?: number;
}

/** One firing of an alert (the alert history). */
export interface AlertFiringJson {
  readonly id: number;
  readonly alertId: number;
  readonly kind: AlertKind;
  readonly ticker: string | null;
  readonly firedAt: string;
  /** The trade price that fired it (the fill price for a fill); null for a rejection or cancel. */
  readonly price: number | null;
  /** The change in percent (change kinds), the session quantity (volume), the order's filled quantity. */
  readonly value: number | null;
  readonly threshold: number | null;
  /** Order alerts: the order and what happened to it. */
  readonly orderId: string | null;
  readonly orderEvent: OrderAlertEvent | null;
  /** Whether it was sent as a notification, or held by quiet hours or the rate. */
  readonly notified: 'sent' | 'quiet' | 'rate' | 'none';
}

/** A user's notification settings (GET/PUT /api/v1/alerts/settings). */
export interface AlertSettingsJson {
  /** Quiet hours in Brasília time, `HH:MM`; both null for none. From 22:00 to 07:00 spans midnight. */
  readonly quietFrom: string | null;
  readonly quietTo: string | null;
  /** Notifications a minute at most; the excess is told in one summary. */
  readonly perMinute: number;
}

export const DEFAULT_ALERT_SETTINGS: AlertSettingsJson = { quietFrom: null, quietTo: null, perMinute: 6 };

/** A device's push subscription as its owner sees it (the keys are never shown). */
export interface PushDeviceJson {
  readonly id: number;
  /** The push service's host (fcm.googleapis.com, updates.push.services.mozilla.com…). */
  readonly service: string;
  readonly label: string;
  readonly createdAt: string;
  readonly lastSentAt: string | null;
}

/** What a notification carries, over Web Push and in the service worker. */
export interface NotificationPayload {
  readonly title: string;
  readonly body: string;
  /** Notifications of one alert replace each other. */
  readonly tag: string;
  /** Where a click opens Tape: `/?ticker=PETR4` or `/?order=<id>`. */
  readonly url: string;
  readonly firing?: AlertFiringJson;
}

/** At most this many alerts a user keeps (paused and active; fired and expired ones count too until deleted). */
export const MAX_ALERTS_PER_USER = 200;

/**
 * B3's session day ends here for alerts that last the session (Brasília minutes after midnight):
 * after the derivatives' close (18:25), the latest of the day's trading.
 */
export const SESSION_END_MINUTE = 18 * 60 + 30;

/**
 * The end of the B3 session that `ms` belongs to: today's at SESSION_END_MINUTE, or the next
 * weekday's once that has passed (or on a weekend). Exchange holidays are not known here.
 */
export function sessionEnd(ms: number): number {
  const local = ms + B3_UTC_OFFSET_MS;
  const dayStart = Math.floor(local / 86_400_000) * 86_400_000;
  let end = dayStart + SESSION_END_MINUTE * 60_000;
  if (end <= local) end += 86_400_000;
  // 1970-01-01 was a Thursday: day 0 → 4.
  for (;;) {
    const weekday = (Math.floor(end / 86_400_000) + 4) % 7;
    if (weekday !== 0 && weekday !== 6) break;
    end += 86_400_000;
  }
  return end - B3_UTC_OFFSET_MS;
}
