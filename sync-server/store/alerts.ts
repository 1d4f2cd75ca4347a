import type {
  Alert,
  AlertPatch,
  AlertRepository,
  NewAlert,
  NewFiring,
  PushDevice,
  StoredFiring,
} from '../alerts/model.ts';
import type { PushTarget } from '../alerts/push.ts';
import {
  type AlertFiringJson,
  type AlertKind,
  type AlertSettingsJson,
  type AlertStatus,
  DEFAULT_ALERT_SETTINGS,
  type OrderAlertEvent,
} from '../shared/alerts.ts';
import type { Sql } from './db.ts';

// Alerts, their firings, the users' push devices and notification settings (migration 016).

type RawAlert = {
  id: string;
  user_id: string;
  client_id: string | null;
  kind: AlertKind;
  ticker: string | null;
  threshold: number | null;
  order_events: OrderAlertEvent[] | null;
  repeat: boolean;
  cooldown_s: number;
  expiry: Alert['expiry'];
  expires_at: Date | null;
  status: AlertStatus;
  note: string | null;
  created_at: Date;
  updated_at: Date;
  last_fired_at: Date | null;
  fired: number;
};

type RawFiring = {
  id: string;
  alert_id: string;
  fired_at: Date;
  kind: AlertKind;
  ticker: string | null;
  price: number | null;
  value: number | null;
  threshold: number | null;
  order_id: string | null;
  order_event: OrderAlertEvent | null;
  notified: AlertFiringJson['notified'];
};

type RawDevice = {
  id: string;
  user_id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  label: string;
  created_at: Date;
  last_sent_at: Date | null;
};

const ms = (d: Date | null) => (d === null ? null : d.getTime());

const toAlert = (r: RawAlert): Alert => ({
  id: Number(r.id),
  userId: Number(r.user_id),
  clientId: r.client_id,
  kind: r.kind,
  ticker: r.ticker,
  threshold: r.threshold,
  orderEvents: r.order_events,
  repeat: r.repeat,
  cooldownS: r.cooldown_s,
  expiry: r.expiry,
  expiresAt: ms(r.expires_at),
  status: r.status,
  note: r.note,
  createdAt: r.created_at.getTime(),
  updatedAt: r.updated_at.getTime(),
  lastFiredAt: ms(r.last_fired_at),
  fired: r.fired,
});

const toFiring = (r: RawFiring): AlertFiringJson => ({
  id: Number(r.id),
  alertId: Number(r.alert_id),
  kind: r.kind,
  ticker: r.ticker,
  firedAt: r.fired_at.toISOString(),
  price: r.price,
  value: r.value,
  threshold: r.threshold,
  orderId: r.order_id,
  orderEvent: r.order_event,
  notified: r.notified,
});

const toDevice = (r: RawDevice): PushDevice => ({
  id: Number(r.id),
  userId: Number(r.user_id),
  endpoint: r.endpoint,
  p256dh: r.p256dh,
  auth: r.auth,
  label: r.label,
  createdAt: r.created_at.getTime(),
  lastSentAt: ms(r.last_sent_at),
});

const at = (v: number | null) => (v === null ? null : new Date(v));

/** `HH:MM` ↔ minutes after midnight, as the settings are stored. */
const minutes = (hhmm: string | null) =>
  hhmm === null ? null : Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
const hhmm = (m: number | null) =>
  m === null ? null : `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

export class AlertStore implements AlertRepository {
  constructor(private readonly sql: Sql) {}

  async insert(a: NewAlert, max: number): Promise<{ alert: Alert; created: boolean } | undefined> {
    // The count and the insert in one statement: two devices racing past the limit cannot both win.
    const [row] = await this.sql<RawAlert[]>`
      insert into alerts (user_id, client_id, kind, ticker, threshold, order_events, repeat, cooldown_s,
                          expiry, expires_at, status, note)
      select ${a.userId}, ${a.clientId}, ${a.kind}, ${a.ticker}, ${a.threshold},
             ${a.orderEvents === null ? null : this.sql.array([...a.orderEvents])}, ${a.repeat},
             ${a.cooldownS}, ${a.expiry}, ${at(a.expiresAt)}, 'active', ${a.note}
      where (select count(*) from alerts where user_id = ${a.userId}) < ${max}
      on conflict (user_id, client_id) do nothing
      returning *`;
    if (row) return { alert: toAlert(row), created: true };
    if (a.clientId === null) return undefined;
    const [existing] = await this.sql<RawAlert[]>`
      select * from alerts where user_id = ${a.userId} and client_id = ${a.clientId}`;
    return existing ? { alert: toAlert(existing), created: false } : undefined;
  }

  async count(userId: number): Promise<number> {
    const [row] = await this.sql<
      { n: number }[]
    >`select count(*)::int as n from alerts where user_id = ${userId}`;
    return row?.n ?? 0;
  }

  async list(userId: number): Promise<Alert[]> {
    const rows = await this.sql<RawAlert[]>`select * from alerts where user_id = ${userId} order by id`;
    return rows.map(toAlert);
  }

  async get(userId: number, id: number): Promise<Alert | undefined> {
    const [row] = await this.sql<RawAlert[]>`select * from alerts where id = ${id} and user_id = ${userId}`;
    return row ? toAlert(row) : undefined;
  }

  async update(userId: number, id: number, p: AlertPatch): Promise<Alert | undefined> {
    const expiresAt = p.expiresAt === undefined ? undefined : at(p.expiresAt);
    const [row] = await this.sql<RawAlert[]>`
      update alerts set
        threshold = coalesce(${p.threshold ?? null}::double precision, threshold),
        order_events = ${p.orderEvents === undefined ? this.sql`order_events` : this.sql.array([...p.orderEvents])},
        repeat = coalesce(${p.repeat ?? null}::boolean, repeat),
        cooldown_s = coalesce(${p.cooldownS ?? null}::int, cooldown_s),
        expiry = coalesce(${p.expiry ?? null}::text, expiry),
        expires_at = ${expiresAt === undefined ? this.sql`expires_at` : expiresAt},
        status = coalesce(${p.status ?? null}::text, status),
        note = ${p.note === undefined ? this.sql`note` : p.note},
        updated_at = now()
      where id = ${id} and user_id = ${userId} returning *`;
    return row ? toAlert(row) : undefined;
  }

  async remove(userId: number, id: number): Promise<boolean> {
    const rows = await this.sql`delete from alerts where id = ${id} and user_id = ${userId} returning 1`;
    return rows.length > 0;
  }

  async active(): Promise<Alert[]> {
    const rows = await this.sql<RawAlert[]>`select * from alerts where status = 'active' order by id`;
    return rows.map(toAlert);
  }

  async fire(firings: readonly NewFiring[]): Promise<StoredFiring[]> {
    if (firings.length === 0) return [];
    // One statement for a batch's firings, passed as one JSON parameter: the alerts' new state
    // (an alert fired twice in it counted twice) and the firings of those not deleted meanwhile.
    const rows = firings.map((f) => ({
      alert_id: f.alertId,
      user_id: f.userId,
      fired_at: new Date(f.firedAt).toISOString(),
      kind: f.kind,
      ticker: f.ticker,
      price: f.price,
      value: f.value,
      threshold: f.threshold,
      order_id: f.orderId,
      order_event: f.orderEvent,
      notified: f.notified,
      status: f.status,
    }));
    const out = await this.sql<(RawFiring & { alert_fired: number; alert_updated_at: Date })[]>`
      with f as (
        select * from jsonb_to_recordset((${JSON.stringify(rows)}::text)::jsonb) as f(
          alert_id bigint, user_id bigint, fired_at timestamptz, kind text, ticker text, price float8,
          value float8, threshold float8, order_id bigint, order_event text, notified text, status text)
      ), upd as (
        update alerts a set status = g.status, last_fired_at = g.fired_at, fired = a.fired + g.n, updated_at = now()
        from (select alert_id, count(*)::int as n, max(fired_at) as fired_at,
                     (array_agg(status order by fired_at desc))[1] as status
              from f group by alert_id) g
        where a.id = g.alert_id
        returning a.id, a.fired, a.updated_at
      ), ins as (
        insert into alert_firings (alert_id, user_id, fired_at, kind, ticker, price, value, threshold,
                                   order_id, order_event, notified)
        select alert_id, user_id, fired_at, kind, ticker, price, value, threshold, order_id, order_event, notified
        from f where alert_id in (select id from upd)
        returning *
      )
      select ins.*, upd.fired as alert_fired, upd.updated_at as alert_updated_at
      from ins join upd on upd.id = ins.alert_id order by ins.id`;
    return out.map((r) => ({
      firing: toFiring(r),
      fired: r.alert_fired,
      updatedAt: r.alert_updated_at.getTime(),
    }));
  }

  async expire(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.sql`
      update alerts set status = 'expired', updated_at = now()
      where id = any(${this.sql.array([...ids])}::bigint[]) and status in ('active', 'paused')`;
  }

  async history(userId: number, limit: number, beforeId?: number): Promise<AlertFiringJson[]> {
    const rows = await this.sql<RawFiring[]>`
      select * from alert_firings
      where user_id = ${userId} ${beforeId === undefined ? this.sql`` : this.sql`and id < ${beforeId}`}
      order by id desc limit ${limit}`;
    return rows.map(toFiring);
  }

  async settings(userId: number): Promise<AlertSettingsJson> {
    const [row] = await this.sql<
      { quiet_from: number | null; quiet_to: number | null; per_minute: number }[]
    >`
      select quiet_from, quiet_to, per_minute from alert_settings where user_id = ${userId}`;
    return row
      ? { quietFrom: hhmm(row.quiet_from), quietTo: hhmm(row.quiet_to), perMinute: row.per_minute }
      : DEFAULT_ALERT_SETTINGS;
  }

  async setSettings(userId: number, s: AlertSettingsJson): Promise<void> {
    await this.sql`
      insert into alert_settings (user_id, quiet_from, quiet_to, per_minute)
      values (${userId}, ${minutes(s.quietFrom)}, ${minutes(s.quietTo)}, ${s.perMinute})
      on conflict (user_id) do update set quiet_from = excluded.quiet_from, quiet_to = excluded.quiet_to,
                                          per_minute = excluded.per_minute`;
  }

  async devices(userId: number): Promise<PushDevice[]> {
    const rows = await this.sql<
      RawDevice[]
    >`select * from push_subscriptions where user_id = ${userId} order by id`;
    return rows.map(toDevice);
  }

  async addDevice(userId: number, t: PushTarget, label: string): Promise<PushDevice> {
    // An endpoint is one browser's: signed in as someone else there, the device moves to them.
    const [row] = await this.sql<RawDevice[]>`
      insert into push_subscriptions (user_id, endpoint, p256dh, auth, label)
      values (${userId}, ${t.endpoint}, ${t.p256dh}, ${t.auth}, ${label})
      on conflict (endpoint) do update set user_id = excluded.user_id, p256dh = excluded.p256dh,
                                           auth = excluded.auth, label = excluded.label
      returning *`;
    return toDevice(row as RawDevice);
  }

  async removeDevice(userId: number, id: number): Promise<boolean> {
    const rows = await this
      .sql`delete from push_subscriptions where id = ${id} and user_id = ${userId} returning 1`;
    return rows.length > 0;
  }

  async dropEndpoint(endpoint: string): Promise<void> {
    await this.sql`delete from push_subscriptions where endpoint = ${endpoint}`;
  }

  async sentTo(deviceId: number, when: number): Promise<void> {
    await this.sql`update push_subscriptions set last_sent_at = ${new Date(when)} where id = ${deviceId}`;
  }
}
