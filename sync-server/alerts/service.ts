import type { Logger } from '../log.ts';
import type { OrderRow } from '../orders/model.ts';
import { Refusal } from '../refusal.ts';
import {
  type AlertFiringJson,
  type AlertSettingsJson,
  DEFAULT_ALERT_SETTINGS,
  MAX_ALERTS_PER_USER,
  type NewAlertJson,
  type NotificationPayload,
  type OrderAlertEvent,
  sessionEnd,
} from '../shared/alerts.ts';
import { price as formatPrice } from '../shared/format.ts';
import type { Instrument } from '../shared/instruments.ts';
import { B3_UTC_OFFSET_MS, type Quote, type ServerMessage, type Trade } from '../shared/market.ts';
import { AlertBook, type Firing, type QuotePoint, type WatchedAlert } from './evaluator.ts';
import {
  type Alert,
  type AlertPatch,
  type AlertRepository,
  alertJson,
  type NewFiring,
  type PushDevice,
  type StoredFiring,
} from './model.ts';
import type { PushOutcome, PushTarget } from './push.ts';

/** A request about alerts refused (an unknown ticker, a level past the limits, too many alerts…). */
export class AlertError extends Refusal {}

/** What alerts read of the market: the configured instruments and their quotes. */
export interface AlertMarket {
  readonly instruments: ReadonlyMap<string, Instrument>;
  quote(ticker: string): Quote | undefined;
}

/** How a firing reaches its user. */
export interface AlertDelivery {
  /** A message to the user's open /ws sockets (the user's topic). */
  toUser(userId: number, message: string): void;
  /** Whether the user has a /ws socket open: Web Push only goes to a user without one. */
  connected(userId: number): boolean;
  /** Web Push to one device; undefined when no VAPID keys are set up. */
  readonly push?: (target: PushTarget, payload: NotificationPayload) => Promise<PushOutcome>;
}

export interface AlertServiceDeps {
  readonly store: AlertRepository;
  readonly market: AlertMarket;
  readonly delivery: AlertDelivery;
  /** The account a user trades: order alerts follow that account's orders. */
  readonly accountOf: (userId: number) => Promise<string | undefined>;
  /** A disabled user's alerts still fire into the history, but reach none of their devices. */
  readonly disabled?: (userId: number) => boolean;
  readonly log: Logger;
  readonly now?: () => number;
  /** The rate's window (default a minute; tests shorten it). */
  readonly rateWindowMs?: number;
  /** Counted: each firing by how it was told, each push by its outcome. */
  readonly count?: {
    fired(notified: AlertFiringJson['notified']): void;
    pushed(outcome: PushOutcome['kind']): void;
  };
}

/** Repeating market alerts wait at least this long between firings (the default is 5 minutes). */
export const MIN_COOLDOWN_S = 10;
const DEFAULT_COOLDOWN_S = 300;
const MAX_COOLDOWN_S = 86_400;
/** How often expired alerts are looked for. */
const EXPIRY_SWEEP_MS = 5_000;
const RATE_WINDOW_MS = 60_000;

type MarketKind = WatchedAlert['kind'];
const isMarketKind = (a: Pick<Alert, 'kind'>): a is Alert & { kind: MarketKind } => a.kind !== 'order';

const watched = (a: Alert): WatchedAlert => ({
  id: a.id,
  userId: a.userId,
  kind: a.kind as MarketKind,
  ticker: a.ticker as string,
  threshold: a.threshold as number,
  repeat: a.repeat,
  cooldownMs: a.cooldownS * 1000,
  expiresAt: a.expiresAt,
  lastFiredAt: a.lastFiredAt,
});

/** A firing before it is stored. */
interface Fired {
  readonly alert: Alert;
  readonly at: number;
  readonly price: number | null;
  readonly value: number | null;
  readonly orderId: number | null;
  readonly orderEvent: OrderAlertEvent | null;
}

/** One user's notifications in the current minute. */
interface RateWindow {
  start: number;
  sent: number;
  held: AlertFiringJson[];
  timer: NodeJS.Timeout | undefined;
}

/**
 * Users' alerts, evaluated by the server: market alerts on every batch of trades (the
 * evaluator, off the publish path's allocation), order alerts on the account's order events.
 * Each firing is stored with the price that fired it, sent to the user's open sockets, and, when
 * the user has none open, as Web Push to each of their devices, within their quiet hours and rate.
 */
export class AlertService {
  private readonly book = new AlertBook();
  /** Active alerts by id: the market ones are also in the book, the order ones in orderAlerts. */
  private readonly alerts = new Map<number, Alert>();
  private readonly orderAlerts = new Map<number, Alert>();
  /** How many active market alerts watch each ticker: a ticker without any costs the batch path nothing. */
  private readonly perTicker = new Map<string, number>();
  /** What each working order was last seen as, to tell a fill from a cancel nobody asked for. */
  private readonly orderSeen = new Map<number, Pick<OrderRow, 'state' | 'filledQty'>>();
  private readonly settingsCache = new Map<number, AlertSettingsJson>();
  private readonly windows = new Map<number, RateWindow>();
  /** Each user's push devices as last read: a firing reads no table to find them. */
  private readonly deviceCache = new Map<number, PushDevice[]>();
  /** Firings waiting for the end of the drain, to be stored in one statement. */
  private readonly pending: Fired[] = [];
  private flushing = false;
  private sweep: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly rateWindowMs: number;

  constructor(private readonly deps: AlertServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.rateWindowMs = deps.rateWindowMs ?? RATE_WINDOW_MS;
  }

  /** Loads the active alerts and starts the expiry sweep. */
  async start(): Promise<void> {
    const active = await this.deps.store.active();
    for (const a of active) this.watch(a);
    for (const userId of new Set(active.map((a) => a.userId))) await this.settings(userId);
    this.sweep = setInterval(() => void this.expireDue(), EXPIRY_SWEEP_MS);
    this.sweep.unref();
  }

  stop() {
    clearInterval(this.sweep);
    for (const w of this.windows.values()) clearTimeout(w.timer);
    this.windows.clear();
  }

  /** Whether any active alert watches the ticker (the market skips the quotes otherwise). */
  watches(ticker: string): boolean {
    return (this.perTicker.get(ticker) ?? 0) > 0;
  }

  /** Whether the user's firings go to an open socket of theirs (else, to their devices by Web Push). */
  online(userId: number): boolean {
    return this.deps.delivery.connected(userId);
  }

  get activeCount(): number {
    return this.alerts.size;
  }

  /** A batch of one ticker's trades, with its quote before and after: called in the batch path. */
  trades(
    ticker: string,
    before: QuotePoint | undefined,
    trades: readonly Trade[],
    after: QuotePoint | undefined,
  ): void {
    if (!after) return;
    const now = this.now();
    const firings = this.book.evaluate(ticker, before, trades, after, now);
    if (firings.length === 0) return;
    for (const f of firings) this.pending.push(this.marketFired(f));
    this.flushSoon();
  }

  /**
   * Stored and delivered once the drain's batches are all published, a drain's firings in one
   * statement: the trades never wait on the database.
   */
  private flushSoon() {
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => {
      this.flushing = false;
      const fired = this.pending.splice(0);
      void this.record(fired);
    });
  }

  private marketFired(f: Firing): Fired {
    const alert = this.alerts.get(f.alert.id) as Alert;
    if (!alert.repeat) this.unwatch(alert.id);
    else this.alerts.set(alert.id, { ...alert, lastFiredAt: f.at });
    return { alert, at: f.at, price: f.price, value: f.value, orderId: null, orderEvent: null };
  }

  /** An order event of any account: the order alerts of the account's users that follow it fire. */
  order(o: OrderRow): void {
    const seen = this.orderSeen.get(o.id);
    const event = orderEvent(seen, o);
    if (o.state === 'filled' || o.state === 'canceled' || o.state === 'rejected' || o.state === 'expired')
      this.orderSeen.delete(o.id);
    else this.orderSeen.set(o.id, { state: o.state, filledQty: o.filledQty });
    if (!event) return;
    const candidates = [...this.orderAlerts.values()].filter(
      (a) => a.orderEvents?.includes(event) && (a.ticker === null || a.ticker === o.ticker),
    );
    if (candidates.length === 0) return;
    void this.orderFired(o, event, candidates);
  }

  private async orderFired(o: OrderRow, event: OrderAlertEvent, candidates: Alert[]) {
    const at = this.now();
    const accounts = new Map<number, string | undefined>();
    for (const a of candidates) {
      if (!accounts.has(a.userId))
        accounts.set(a.userId, await this.deps.accountOf(a.userId).catch(() => undefined));
      if (accounts.get(a.userId) !== o.accountId) continue;
      const current = this.alerts.get(a.id);
      if (!current || (current.expiresAt !== null && current.expiresAt <= at)) continue;
      if (
        current.repeat &&
        current.lastFiredAt !== null &&
        at - current.lastFiredAt < current.cooldownS * 1000
      )
        continue;
      if (current.repeat) {
        const next = { ...current, lastFiredAt: at };
        this.alerts.set(a.id, next);
        this.orderAlerts.set(a.id, next);
      } else this.unwatch(a.id);
      const price = event === 'filled' || event === 'partially_filled' ? o.avgFillPrice : null;
      this.pending.push({ alert: current, at, price, value: o.filledQty, orderId: o.id, orderEvent: event });
    }
    this.flushSoon();
  }

  // ---- storing and delivering ----

  private async record(fired: readonly Fired[]) {
    if (fired.length === 0) return;
    const rows: NewFiring[] = [];
    for (const f of fired) {
      rows.push({
        alertId: f.alert.id,
        userId: f.alert.userId,
        firedAt: f.at,
        kind: f.alert.kind,
        ticker: f.alert.ticker,
        price: f.price,
        value: f.value,
        threshold: f.alert.threshold,
        orderId: f.orderId,
        orderEvent: f.orderEvent,
        notified: this.gate(f.alert.userId, f.at),
        status: f.alert.repeat ? 'active' : 'fired',
      });
    }
    let stored: StoredFiring[];
    try {
      stored = await this.deps.store.fire(rows);
    } catch (err) {
      // Still told: a firing the database did not take is a notification late for nobody.
      this.deps.log.error({ err: (err as Error).message, firings: rows.length }, 'alert firings not stored');
      stored = rows.map((r, i) => ({
        firing: {
          ...r,
          id: 0,
          firedAt: new Date(r.firedAt).toISOString(),
          orderId: r.orderId?.toString() ?? null,
        },
        fired: (fired[i] as Fired).alert.fired + 1,
        updatedAt: r.firedAt,
      }));
    }
    const byId = new Map(fired.map((f) => [f.alert.id, f.alert]));
    for (const { firing, fired: count, updatedAt } of stored) {
      const before = byId.get(firing.alertId) as Alert;
      const alert: Alert = {
        ...before,
        status: before.repeat ? 'active' : 'fired',
        lastFiredAt: Date.parse(firing.firedAt),
        fired: count,
        updatedAt,
      };
      this.deps.count?.fired(firing.notified);
      const notification = firing.notified === 'sent' ? notificationOf(firing, this.deps.market) : null;
      if (firing.notified === 'rate') this.hold(alert.userId, firing);
      this.tell(alert.userId, { type: 'alert', alert: alertJson(alert), firing, notification });
      if (notification) void this.pushTo(alert.userId, notification);
    }
  }

  /** Whether a firing now is notified, or held by the user's quiet hours or rate. */
  private gate(userId: number, at: number): AlertFiringJson['notified'] {
    // Loaded with the user's alerts (start, create): never a database read in the firing path.
    const s = this.settingsCache.get(userId) ?? DEFAULT_ALERT_SETTINGS;
    if (inQuietHours(s, at)) return 'quiet';
    let w = this.windows.get(userId);
    if (!w || at - w.start >= this.rateWindowMs) {
      if (w) clearTimeout(w.timer);
      w = { start: at, sent: 0, held: [], timer: undefined };
      this.windows.set(userId, w);
    }
    if (w.sent < s.perMinute) {
      w.sent++;
      return 'sent';
    }
    return 'rate';
  }

  /** A firing past the rate: told in one summary when the user's minute ends. */
  private hold(userId: number, firing: AlertFiringJson) {
    const w = this.windows.get(userId);
    if (!w) return;
    w.held.push(firing);
    if (w.timer) return;
    w.timer = setTimeout(
      () => {
        this.windows.delete(userId);
        const notification = summaryOf(w.held);
        this.tell(userId, { type: 'alertSummary', count: w.held.length, notification });
        void this.pushTo(userId, notification);
      },
      Math.max(0, w.start + this.rateWindowMs - this.now()),
    );
    w.timer.unref();
  }

  private tell(userId: number, message: ServerMessage) {
    this.deps.delivery.toUser(userId, JSON.stringify(message));
  }

  /** Web Push to each of the user's devices, unless the app is open somewhere (its socket tells it). */
  private async pushTo(userId: number, payload: NotificationPayload) {
    const push = this.deps.delivery.push;
    if (!push || this.deps.delivery.connected(userId) || this.deps.disabled?.(userId)) return;
    const devices = await this.devices(userId).catch(() => []);
    await Promise.all(
      devices.map(async (d) => {
        const outcome = await push(d, payload);
        this.deps.count?.pushed(outcome.kind);
        if (outcome.kind === 'sent') await this.deps.store.sentTo(d.id, this.now()).catch(() => {});
        else if (outcome.kind === 'gone') {
          this.deviceCache.delete(userId);
          await this.deps.store.dropEndpoint(d.endpoint).catch(() => {});
          this.deps.log.info(
            { userId, device: d.id, status: outcome.status },
            'push subscription gone: dropped',
          );
        } else
          this.deps.log.warn(
            { userId, device: d.id, status: outcome.status, reason: outcome.reason },
            'push failed',
          );
      }),
    );
  }

  private async expireDue() {
    const now = this.now();
    // The book keeps the market alerts by expiry (a sweep costs what expires); order alerts are few.
    const due = [
      ...this.book.expire(now).map((w) => this.alerts.get(w.id) as Alert),
      ...[...this.orderAlerts.values()].filter((a) => a.expiresAt !== null && a.expiresAt <= now),
    ];
    if (due.length === 0) return;
    for (const a of due) this.unwatch(a.id);
    try {
      await this.deps.store.expire(due.map((a) => a.id));
      for (const a of due)
        this.tell(a.userId, {
          type: 'alertChanged',
          alert: alertJson({ ...a, status: 'expired', updatedAt: now }),
        });
    } catch (err) {
      this.deps.log.error({ err: (err as Error).message }, 'expired alerts not stored');
    }
  }

  // ---- the book ----

  private watch(a: Alert) {
    this.unwatch(a.id);
    if (a.status !== 'active') return;
    this.alerts.set(a.id, a);
    if (!isMarketKind(a)) this.orderAlerts.set(a.id, a);
    else {
      this.book.add(watched(a));
      this.perTicker.set(a.ticker as string, (this.perTicker.get(a.ticker as string) ?? 0) + 1);
    }
  }

  private unwatch(id: number) {
    const a = this.alerts.get(id);
    if (!a) return;
    this.alerts.delete(id);
    this.orderAlerts.delete(id);
    if (isMarketKind(a)) {
      this.book.remove(id);
      const left = (this.perTicker.get(a.ticker as string) ?? 1) - 1;
      if (left > 0) this.perTicker.set(a.ticker as string, left);
      else this.perTicker.delete(a.ticker as string);
    }
  }

  // ---- what REST asks ----

  async list(userId: number) {
    return (await this.deps.store.list(userId)).map(alertJson);
  }

  async create(userId: number, body: NewAlertJson) {
    const now = this.now();
    const kind = body.kind;
    const ticker = body.ticker ?? null;
    const inst = ticker === null ? undefined : this.deps.market.instruments.get(ticker);
    if (ticker !== null && !inst)
      throw new AlertError(422, 'unknown_ticker', `${ticker} is not among the tickers this server follows`);
    if (kind !== 'order' && !inst)
      throw new AlertError(422, 'ticker_required', `a ${kind} alert needs a ticker`);
    const checked =
      kind === 'order'
        ? { threshold: null, snappedFrom: undefined }
        : this.checkThreshold(kind, inst as Instrument, body.threshold);
    const repeat = body.repeat ?? kind === 'order';
    const cooldownS = checkCooldown(kind, repeat, body.cooldownS);
    const expiry = expiryOf(body.expiry, now);
    const orderEvents = kind === 'order' ? checkOrderEvents(body.orderEvents) : null;
    const made = await this.deps.store.insert(
      {
        userId,
        clientId: body.clientId ?? null,
        kind,
        ticker,
        threshold: checked.threshold,
        orderEvents,
        repeat,
        cooldownS,
        ...expiry,
        note: body.note ?? null,
      },
      MAX_ALERTS_PER_USER,
    );
    if (!made)
      throw new AlertError(
        422,
        'too_many_alerts',
        `at most ${MAX_ALERTS_PER_USER} alerts a user: delete some (fired and expired ones count too)`,
      );
    if (made.created) {
      await this.settings(userId);
      this.watch(made.alert);
    }
    return {
      alert: alertJson(made.alert),
      created: made.created,
      ...(checked.snappedFrom !== undefined ? { snappedFrom: checked.snappedFrom } : {}),
    };
  }

  /** An edit, a pause (`status: paused`) or a resume (`status: active`, also of a fired or expired one). */
  async update(
    userId: number,
    id: number,
    body: Partial<
      Pick<NewAlertJson, 'threshold' | 'orderEvents' | 'repeat' | 'cooldownS' | 'expiry' | 'note'>
    > & {
      status?: 'active' | 'paused';
    },
  ) {
    const now = this.now();
    const current = await this.deps.store.get(userId, id);
    if (!current) throw new AlertError(404, 'alert_not_found', `no alert ${id} of yours`);
    const patch: { -readonly [K in keyof AlertPatch]: AlertPatch[K] } = {};
    let snappedFrom: number | undefined;
    if (body.threshold !== undefined) {
      if (current.kind === 'order') throw new AlertError(422, 'no_threshold', 'an order alert has no level');
      const inst = this.deps.market.instruments.get(current.ticker as string);
      if (!inst) throw new AlertError(422, 'unknown_ticker', `${current.ticker} is no longer followed`);
      const checked = this.checkThreshold(current.kind, inst, body.threshold);
      patch.threshold = checked.threshold;
      snappedFrom = checked.snappedFrom;
    }
    if (body.orderEvents !== undefined) {
      if (current.kind !== 'order')
        throw new AlertError(422, 'not_an_order_alert', 'only order alerts follow order events');
      patch.orderEvents = checkOrderEvents(body.orderEvents);
    }
    if (body.repeat !== undefined || body.cooldownS !== undefined) {
      patch.repeat = body.repeat ?? current.repeat;
      patch.cooldownS = checkCooldown(current.kind, patch.repeat, body.cooldownS ?? current.cooldownS);
    }
    if (body.expiry !== undefined) Object.assign(patch, expiryOf(body.expiry, now));
    if (body.note !== undefined) patch.note = body.note;
    if (body.status !== undefined) patch.status = body.status;
    const status = patch.status ?? current.status;
    const expiresAt = patch.expiresAt !== undefined ? patch.expiresAt : current.expiresAt;
    if (status === 'active' && expiresAt !== null && expiresAt <= now)
      throw new AlertError(
        422,
        'expired',
        'this alert has expired: give it a new expiry to make it active again',
      );
    const updated = await this.deps.store.update(userId, id, patch);
    if (!updated) throw new AlertError(404, 'alert_not_found', `no alert ${id} of yours`);
    this.watch(updated);
    return { alert: alertJson(updated), ...(snappedFrom !== undefined ? { snappedFrom } : {}) };
  }

  async remove(userId: number, id: number) {
    if (!(await this.deps.store.remove(userId, id)))
      throw new AlertError(404, 'alert_not_found', `no alert ${id} of yours`);
    if (this.alerts.get(id)?.userId === userId) this.unwatch(id);
  }

  history(userId: number, limit: number, beforeId?: number) {
    return this.deps.store.history(userId, limit, beforeId);
  }

  async settings(userId: number): Promise<AlertSettingsJson> {
    let s = this.settingsCache.get(userId);
    if (!s) {
      s = await this.deps.store.settings(userId);
      this.settingsCache.set(userId, s);
    }
    return s;
  }

  async setSettings(userId: number, s: AlertSettingsJson) {
    await this.deps.store.setSettings(userId, s);
    this.settingsCache.set(userId, s);
  }

  async devices(userId: number): Promise<PushDevice[]> {
    let d = this.deviceCache.get(userId);
    if (!d) {
      d = await this.deps.store.devices(userId);
      this.deviceCache.set(userId, d);
    }
    return d;
  }

  async addDevice(userId: number, target: PushTarget, label: string): Promise<PushDevice> {
    const device = await this.deps.store.addDevice(userId, target, label);
    // The endpoint may have been another user's on this browser: both read theirs again.
    this.deviceCache.clear();
    return device;
  }

  async removeDevice(userId: number, id: number): Promise<boolean> {
    const removed = await this.deps.store.removeDevice(userId, id);
    this.deviceCache.delete(userId);
    return removed;
  }

  /**
   * A level on the tick grid (snapped, and the level asked returned when it moved), within the
   * day's price limits, and not already past: an alert above fires on the way up.
   */
  private checkThreshold(
    kind: MarketKind,
    inst: Instrument,
    raw: number | null | undefined,
  ): { threshold: number; snappedFrom: number | undefined } {
    if (raw === null || raw === undefined || !Number.isFinite(raw))
      throw new AlertError(422, 'threshold_required', `a ${kind} alert needs a threshold`);
    const q = this.deps.market.quote(inst.ticker);
    const limits = q?.minLimit && q.maxLimit ? { min: q.minLimit, max: q.maxLimit } : undefined;
    const p = (v: number) => formatPrice(v, inst.priceDecimals);
    if (kind === 'volume_above') {
      if (!Number.isInteger(raw) || raw <= 0 || raw > 1e12)
        throw new AlertError(422, 'invalid_threshold', 'a volume is a whole quantity above 0');
      if (q && q.volume >= raw)
        throw new AlertError(422, 'already_past', `${inst.ticker} has traded ${q.volume} already today`);
      return { threshold: raw, snappedFrom: undefined };
    }
    if (kind === 'change_above' || kind === 'change_below') {
      if (raw === 0 || Math.abs(raw) >= 100)
        throw new AlertError(422, 'invalid_threshold', 'a change is a percent between −100 and 100, not 0');
      const close = q?.previousClose;
      if (close && limits) {
        const level = close * (1 + raw / 100);
        if (level < limits.min || level > limits.max)
          throw new AlertError(
            422,
            'outside_limits',
            `${raw} % from ${p(close)} is ${p(level)}, outside today's limits ${p(limits.min)} to ${p(limits.max)}`,
          );
      }
      if (close && q) {
        const change = (q.last / close - 1) * 100;
        if (kind === 'change_above' ? change >= raw : change <= raw)
          throw new AlertError(422, 'already_past', `${inst.ticker} is at ${change.toFixed(2)} % already`);
      }
      return { threshold: raw, snappedFrom: undefined };
    }
    if (raw <= 0) throw new AlertError(422, 'invalid_threshold', 'a price above 0');
    const level = Number((Math.round(raw / inst.tickSize) * inst.tickSize).toFixed(inst.priceDecimals));
    if (level <= 0)
      throw new AlertError(422, 'invalid_threshold', `a price of at least one tick (${p(inst.tickSize)})`);
    if (limits && (level < limits.min || level > limits.max))
      throw new AlertError(
        422,
        'outside_limits',
        `${p(level)} is outside ${inst.ticker}'s limits today, ${p(limits.min)} to ${p(limits.max)}`,
      );
    if (q && (kind === 'price_above' ? q.last >= level : q.last <= level))
      throw new AlertError(
        422,
        'already_past',
        `${inst.ticker} is at ${p(q.last)}, already ${kind === 'price_above' ? 'at or above' : 'at or below'} ${p(level)}`,
      );
    return { threshold: level, snappedFrom: level !== raw ? raw : undefined };
  }
}

/** What an order event is to its alerts, from what the order was last seen as. */
export function orderEvent(
  seen: Pick<OrderRow, 'state' | 'filledQty'> | undefined,
  o: Pick<OrderRow, 'state' | 'filledQty'>,
): OrderAlertEvent | undefined {
  if (o.state === 'filled') return seen?.state === 'filled' ? undefined : 'filled';
  if (o.state === 'rejected') return seen?.state === 'rejected' ? undefined : 'rejected';
  if (o.state === 'canceled' || o.state === 'expired')
    // Tape's own cancels go through pending_cancel; an order not seen before (a restart) is told.
    return seen?.state === 'pending_cancel' || seen?.state === o.state ? undefined : 'cancelled';
  if (o.filledQty > (seen?.filledQty ?? 0)) return 'partially_filled';
  return undefined;
}

function checkCooldown(kind: Alert['kind'], repeat: boolean, raw: number | undefined): number {
  if (!repeat) return 0;
  const min = kind === 'order' ? 0 : MIN_COOLDOWN_S;
  const s = raw ?? (kind === 'order' ? 0 : DEFAULT_COOLDOWN_S);
  if (!Number.isInteger(s) || s < min || s > MAX_COOLDOWN_S)
    throw new AlertError(
      422,
      'invalid_cooldown',
      `a cooldown is whole seconds from ${min} to ${MAX_COOLDOWN_S}`,
    );
  return s;
}

function checkOrderEvents(raw: readonly OrderAlertEvent[] | undefined): OrderAlertEvent[] {
  const events = [...new Set(raw ?? [])];
  if (events.length === 0)
    throw new AlertError(422, 'order_events_required', 'name the order events to follow (filled, rejected…)');
  return events;
}

function expiryOf(
  e: NewAlertJson['expiry'],
  now: number,
): { expiry: Alert['expiry']; expiresAt: number | null } {
  if (!e || e.kind === 'session') return { expiry: 'session', expiresAt: sessionEnd(now) };
  if (e.kind !== 'date') return { expiry: 'never', expiresAt: null };
  const at = Date.parse(e.at);
  if (!Number.isFinite(at))
    throw new AlertError(422, 'invalid_expiry', 'an expiry date is an ISO date and time');
  if (at <= now) throw new AlertError(422, 'invalid_expiry', 'an expiry date in the future');
  if (at > now + 366 * 86_400_000) throw new AlertError(422, 'invalid_expiry', 'an expiry within a year');
  return { expiry: 'date', expiresAt: at };
}

/** Whether `at` falls in the user's quiet hours (Brasília time; a span may cross midnight). */
export function inQuietHours(s: AlertSettingsJson, at: number): boolean {
  if (s.quietFrom === null || s.quietTo === null) return false;
  const toMin = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
  const from = toMin(s.quietFrom);
  const to = toMin(s.quietTo);
  const m = Math.floor(((((at + B3_UTC_OFFSET_MS) % 86_400_000) + 86_400_000) % 86_400_000) / 60_000);
  return from <= to ? m >= from && m < to : m >= from || m < to;
}

const ORDER_WORDS: Record<OrderAlertEvent, string> = {
  filled: 'Ordem executada',
  partially_filled: 'Ordem executada em parte',
  rejected: 'Ordem rejeitada',
  cancelled: 'Ordem cancelada pela corretora',
};

/**
 * The notification of a firing, in Portuguese (the desks' language; the app says the in-app
 * alert in the trader's own). A click opens the ticker, or the order.
 */
export function notificationOf(
  f: AlertFiringJson,
  market: Pick<AlertMarket, 'instruments'>,
): NotificationPayload {
  const digits = f.ticker ? (market.instruments.get(f.ticker)?.priceDecimals ?? 2) : 2;
  const p = (v: number | null) => formatPrice(v, digits);
  const ticker = f.ticker ?? '';
  const tag = `alert-${f.alertId}`;
  const url = `/?ticker=${encodeURIComponent(ticker)}`;
  switch (f.kind) {
    case 'price_above':
    case 'price_below':
      return {
        title: `${ticker} ${f.kind === 'price_above' ? 'acima de' : 'abaixo de'} ${p(f.threshold)}`,
        body: `Negociado a ${p(f.price)}`,
        tag,
        url,
        firing: f,
      };
    case 'change_above':
    case 'change_below':
      return {
        title: `${ticker} ${(f.value ?? 0) >= 0 ? '+' : ''}${(f.value ?? 0).toFixed(2).replace('.', ',')} % no dia`,
        body: `Alerta em ${(f.threshold ?? 0).toFixed(2).replace('.', ',')} %; negociado a ${p(f.price)}`,
        tag,
        url,
        firing: f,
      };
    case 'volume_above':
      return {
        title: `${ticker}: volume passou de ${(f.threshold ?? 0).toLocaleString('pt-BR')}`,
        body: `${(f.value ?? 0).toLocaleString('pt-BR')} negociados; último ${p(f.price)}`,
        tag,
        url,
        firing: f,
      };
    case 'order':
      return {
        title: `${ORDER_WORDS[f.orderEvent ?? 'filled']}: ${ticker}`,
        body:
          f.price !== null
            ? `${(f.value ?? 0).toLocaleString('pt-BR')} a ${p(f.price)}`
            : `Ordem ${f.orderId ?? ''}`,
        tag: `order-${f.orderId}`,
        url: `/?order=${encodeURIComponent(f.orderId ?? '')}`,
        firing: f,
      };
  }
}

/** The one notification for the firings a user's rate held back in a minute. */
export function summaryOf(held: readonly AlertFiringJson[]): NotificationPayload {
  const tickers = [...new Set(held.map((f) => f.ticker).filter((t): t is string => t !== null))];
  return {
    title: `Mais ${held.length} ${held.length === 1 ? 'alerta disparou' : 'alertas dispararam'}`,
    body: tickers.length > 0 ? tickers.slice(0, 6).join(', ') : 'Ordens',
    tag: 'alert-summary',
    url: tickers.length === 1 ? `/?ticker=${encodeURIComponent(tickers[0] as string)}` : '/?screen=alerts',
  };
}
