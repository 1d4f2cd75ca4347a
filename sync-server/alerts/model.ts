import type {
  AlertFiringJson,
  AlertJson,
  AlertKind,
  AlertSettingsJson,
  AlertStatus,
  OrderAlertEvent,
  PushDeviceJson,
} from '../shared/alerts.ts';
import type { PushTarget } from './push.ts';

// Alerts as the alerts capability keeps them, and the port they are stored through
// (store/alerts.ts behind it, built by server.ts).

/** An alert as stored: the wire's AlertJson with times in ms. */
export interface Alert {
  readonly id: number;
  readonly userId: number;
  readonly clientId: string | null;
  readonly kind: AlertKind;
  readonly ticker: string | null;
  readonly threshold: number | null;
  readonly orderEvents: readonly OrderAlertEvent[] | null;
  readonly repeat: boolean;
  readonly cooldownS: number;
  readonly expiry: 'session' | 'date' | 'never';
  readonly expiresAt: number | null;
  readonly status: AlertStatus;
  readonly note: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly lastFiredAt: number | null;
  readonly fired: number;
}

export type NewAlert = Omit<Alert, 'id' | 'status' | 'createdAt' | 'updatedAt' | 'lastFiredAt' | 'fired'>;

/** What an edit may change; an absent field is kept. */
export interface AlertPatch {
  readonly threshold?: number;
  readonly orderEvents?: readonly OrderAlertEvent[];
  readonly repeat?: boolean;
  readonly cooldownS?: number;
  readonly expiry?: Alert['expiry'];
  readonly expiresAt?: number | null;
  readonly status?: AlertStatus;
  readonly note?: string | null;
}

/** A firing to store: the alert's new state with it (a one-shot's `fired`). */
export interface NewFiring {
  readonly alertId: number;
  readonly userId: number;
  readonly firedAt: number;
  readonly kind: AlertKind;
  readonly ticker: string | null;
  readonly price: number | null;
  readonly value: number | null;
  readonly threshold: number | null;
  readonly orderId: number | null;
  readonly orderEvent: OrderAlertEvent | null;
  readonly notified: AlertFiringJson['notified'];
  /** The alert's status after it (`fired` for a one-shot, else `active`). */
  readonly status: AlertStatus;
}

/** A firing as stored, with its alert's count of firings and time of change after it. */
export interface StoredFiring {
  readonly firing: AlertFiringJson;
  readonly fired: number;
  readonly updatedAt: number;
}

export interface PushDevice extends PushTarget {
  readonly id: number;
  readonly userId: number;
  readonly label: string;
  readonly createdAt: number;
  readonly lastSentAt: number | null;
}

export interface AlertRepository {
  /**
   * Writes the alert while the user has fewer than `max`, or returns the user's one of that
   * clientId (`created` tells which); undefined when the user is at `max`.
   */
  insert(a: NewAlert, max: number): Promise<{ alert: Alert; created: boolean } | undefined>;
  count(userId: number): Promise<number>;
  list(userId: number): Promise<Alert[]>;
  /** The user's alert; undefined for another user's (one user never sees another's). */
  get(userId: number, id: number): Promise<Alert | undefined>;
  update(userId: number, id: number, patch: AlertPatch): Promise<Alert | undefined>;
  remove(userId: number, id: number): Promise<boolean>;
  /** Every active alert, for the evaluator at start-up. */
  active(): Promise<Alert[]>;
  /** The firings with their alerts' new state, in one statement; those of alerts deleted meanwhile are not kept. */
  fire(firings: readonly NewFiring[]): Promise<StoredFiring[]>;
  /** Marks the alerts expired (those still active or paused). */
  expire(ids: readonly number[]): Promise<void>;
  /** The user's firings, newest first, before the id given. */
  history(userId: number, limit: number, beforeId?: number): Promise<AlertFiringJson[]>;
  settings(userId: number): Promise<AlertSettingsJson>;
  setSettings(userId: number, s: AlertSettingsJson): Promise<void>;
  devices(userId: number): Promise<PushDevice[]>;
  /** Adds the device, or gives an endpoint already known to this user (its keys renewed). */
  addDevice(userId: number, target: PushTarget, label: string): Promise<PushDevice>;
  removeDevice(userId: number, id: number): Promise<boolean>;
  /** The push service said the subscription is gone (404/410). */
  dropEndpoint(endpoint: string): Promise<void>;
  sentTo(deviceId: number, at: number): Promise<void>;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function alertJson(a: Alert): AlertJson {
  return {
    id: a.id,
    clientId: a.clientId,
    kind: a.kind,
    ticker: a.ticker,
    threshold: a.threshold,
    orderEvents: a.orderEvents,
    repeat: a.repeat,
    cooldownS: a.cooldownS,
    expiry:
      a.expiry === 'never'
        ? { kind: 'never' }
        : { kind: a.expiry, at: new Date(a.expiresAt ?? 0).toISOString() },
    status: a.status,
    note: a.note,
    createdAt: new Date(a.createdAt).toISOString(),
    updatedAt: new Date(a.updatedAt).toISOString(),
    lastFiredAt: iso(a.lastFiredAt),
    fired: a.fired,
  };
}

export function deviceJson(d: PushDevice): PushDeviceJson {
  return {
    id: d.id,
    service: new URL(d.endpoint).host,
    label: d.label,
    createdAt: new Date(d.createdAt).toISOString(),
    lastSentAt: iso(d.lastSentAt),
  };
}
