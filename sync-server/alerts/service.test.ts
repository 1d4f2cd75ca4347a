import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import type { OrderRow } from '../orders/model.ts';
import { Refusal } from '../refusal.ts';
import { MAX_ALERTS_PER_USER, type NewAlertJson, sessionEnd } from '../shared/alerts.ts';
import { type Instrument, instrumentFor } from '../shared/instruments.ts';
import type { Quote, ServerMessage, Trade } from '../shared/market.ts';
import { AlertStore } from '../store/alerts.ts';
import type { Database } from '../store/db.ts';
import { createTestUser, testBackends } from '../store/testing.ts';
import { sampleTrade } from '../testing/market.ts';
import { type PushReceiver, startPushReceiver } from '../testing/pushReceiver.ts';
import { until } from '../testing/until.ts';
import { newVapidKeys, WebPushSender } from './push.ts';
import { AlertService, inQuietHours, orderEvent, type AlertService as Service } from './service.ts';

// The alerts capability over a real store: what a user may make (snapped, limited, refused with
// a reason), that a batch of trades fires what it crosses once, that an order alert follows the
// account's orders, and that a firing reaches the user's socket, or, with no socket open, each
// device by real Web Push (encrypted, decrypted by the receiver), within quiet hours and rate.

const instruments = new Map<string, Instrument>(
  ['PETR4', 'WINZ25'].map((t) => [t, instrumentFor(t, t.startsWith('WIN') ? 'F' : 'B') as Instrument]),
);

const quoteOf = (ticker: string, last: number, patch: Partial<Quote> = {}): Quote => ({
  ticker,
  exchange: 'B',
  seq: 1,
  last,
  open: last,
  high: last,
  low: last,
  volume: 100,
  trades: 1,
  time: Date.now(),
  ...patch,
});

const order = (patch: Partial<OrderRow>): OrderRow => ({
  id: 1,
  accountId: 'ACC-1',
  userId: 1,
  origin: 'tape',
  clientOrderId: 'c1',
  requestHash: 'h',
  ticker: 'PETR4',
  exchange: 'B',
  side: 'buy',
  type: 'market',
  qty: 100,
  price: null,
  stopPrice: null,
  triggeredAt: null,
  state: 'new',
  filledQty: 0,
  avgFillPrice: null,
  localOrderId: 1n,
  rejectReason: null,
  createdAt: new Date().toISOString(),
  updatedAt: new Date().toISOString(),
  ...patch,
});

describe.each(testBackends())('alerts on $name', (backend) => {
  let db: Database;
  let store: AlertStore;
  let receiver: PushReceiver;
  let alice: number;
  let bob: number;
  const quotes = new Map<string, Quote>();
  const told: { userId: number; message: ServerMessage }[] = [];
  let connected = true;
  const disabledUsers = new Set<number>();
  let now = Date.now();
  let service: Service;
  const keys = newVapidKeys('mailto:ops@example.com');
  const sender = new WebPushSender(keys, { timeoutMs: 2_000 });

  const make = (rateWindowMs?: number) =>
    new AlertService({
      store,
      market: { instruments, quote: (t) => quotes.get(t) },
      delivery: {
        toUser: (userId, message) => told.push({ userId, message: JSON.parse(message) as ServerMessage }),
        connected: () => connected,
        push: (target, payload) => sender.send(target, payload),
      },
      accountOf: async (userId) => (userId === alice ? 'ACC-1' : 'ACC-2'),
      disabled: (userId) => disabledUsers.has(userId),
      log: createLogger('silent'),
      now: () => now,
      ...(rateWindowMs ? { rateWindowMs } : {}),
    });

  /** The refusal a call answers with. */
  const refused = async (call: Promise<unknown>) => {
    const err = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Refusal);
    return err as Refusal;
  };

  /** A batch of PETR4 trades at these prices, the quote moved as the market would. */
  const batch = (ticker: string, prices: number[]) => {
    const before = quotes.get(ticker);
    const trades: Trade[] = prices.map((price, i) =>
      sampleTrade((before?.seq ?? 0) + i + 1, { ticker, price, time: now }),
    );
    const after = quoteOf(ticker, prices.at(-1) as number, {
      seq: (before?.seq ?? 0) + prices.length,
      volume: (before?.volume ?? 0) + 100 * prices.length,
      previousClose: before?.previousClose,
    });
    quotes.set(ticker, after);
    service.trades(ticker, before, trades, after);
  };

  const firings = (userId: number) =>
    told.filter((t) => t.userId === userId && t.message.type === 'alert').map((t) => t.message);

  beforeAll(async () => {
    db = await backend.open();
    store = new AlertStore(db.sql);
    alice = await createTestUser(db, 'alice');
    bob = await createTestUser(db, 'bob');
    receiver = await startPushReceiver();
    receiver.expectKey(keys.publicKey);
  });
  afterAll(async () => {
    await receiver?.close();
    await db?.close();
  });
  afterEach(async () => {
    service?.stop();
    told.length = 0;
    connected = true;
    disabledUsers.clear();
    now = Date.now();
    quotes.clear();
    await db.sql`delete from alerts`;
    await db.sql`delete from alert_settings`;
    await db.sql`delete from push_subscriptions`;
  });

  it('snaps a level to the tick grid, refuses one past the limits or already passed, and keeps each user to their own', async () => {
    quotes.set('PETR4', quoteOf('PETR4', 38.5, { minLimit: 34.65, maxLimit: 42.35 }));
    service = make();
    await service.start();
    const made = await service.create(alice, { kind: 'price_above', ticker: 'PETR4', threshold: 39.004 });
    expect(made.alert.threshold).toBe(39);
    expect(made.snappedFrom).toBe(39.004);
    expect(
      (await refused(service.create(alice, { kind: 'price_above', ticker: 'PETR4', threshold: 50 }))).code,
    ).toBe('outside_limits');
    const past = await refused(
      service.create(alice, { kind: 'price_above', ticker: 'PETR4', threshold: 38 }),
    );
    expect(past.code).toBe('already_past');
    expect(past.message).toContain('38,50');
    expect(
      (await refused(service.create(alice, { kind: 'price_below', ticker: 'XPTO3', threshold: 1 }))).code,
    ).toBe('unknown_ticker');
    expect(
      (
        await refused(
          service.create(alice, {
            kind: 'price_above',
            ticker: 'PETR4',
            threshold: 40,
            repeat: true,
            cooldownS: 1,
          }),
        )
      ).code,
    ).toBe('invalid_cooldown');
    // Bob sees none of Alice's, and cannot touch it.
    expect(await service.list(bob)).toEqual([]);
    expect((await refused(service.update(bob, made.alert.id, { status: 'paused' }))).status).toBe(404);
    expect((await refused(service.remove(bob, made.alert.id))).status).toBe(404);
    expect(await service.list(alice)).toHaveLength(1);
    // A session alert ends at the session's end.
    expect(made.alert.expiry).toEqual({ kind: 'session', at: new Date(sessionEnd(now)).toISOString() });
  });

  it(`holds a user to ${MAX_ALERTS_PER_USER} alerts, and a retried create (same clientId) makes one`, async () => {
    service = make();
    await service.start();
    const one: NewAlertJson = { kind: 'order', orderEvents: ['filled'], clientId: 'device-1' };
    const first = await service.create(alice, one);
    const again = await service.create(alice, one);
    expect(again.created).toBe(false);
    expect(again.alert.id).toBe(first.alert.id);
    for (let i = 1; i < MAX_ALERTS_PER_USER; i++)
      await service.create(alice, { kind: 'order', orderEvents: ['rejected'] });
    const over = await refused(service.create(alice, { kind: 'order', orderEvents: ['rejected'] }));
    expect(over).toMatchObject({ status: 422, code: 'too_many_alerts' });
    // At the limit, the retry of one already made still answers it.
    expect((await service.create(alice, one)).alert.id).toBe(first.alert.id);
    // Another user is not held by Alice's count.
    expect((await service.create(bob, { kind: 'order', orderEvents: ['filled'] })).created).toBe(true);
  });

  it('fires a crossing once per batch, stores it with its price, and a one-shot is done', async () => {
    quotes.set('PETR4', quoteOf('PETR4', 38.5));
    service = make();
    await service.start();
    const { alert } = await service.create(alice, { kind: 'price_above', ticker: 'PETR4', threshold: 38.6 });
    batch('PETR4', [38.55, 38.6, 38.58, 38.61]);
    await until(() => firings(alice).length === 1, 'the firing told');
    const m = firings(alice)[0] as Extract<ServerMessage, { type: 'alert' }>;
    expect(m.firing).toMatchObject({ alertId: alert.id, price: 38.6, threshold: 38.6, notified: 'sent' });
    expect(m.alert.status).toBe('fired');
    expect(m.notification?.title).toBe('PETR4 acima de 38,60');
    // Done: the price crossing again fires nothing.
    batch('PETR4', [38.4]);
    batch('PETR4', [38.7]);
    await new Promise((r) => setTimeout(r, 50));
    expect(firings(alice)).toHaveLength(1);
    const history = await service.history(alice, 10);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ price: 38.6, kind: 'price_above' });
    expect(await service.history(bob, 10)).toEqual([]);
    // A restart loads only what is still active: the fired one stays fired.
    service.stop();
    service = make();
    await service.start();
    expect(service.activeCount).toBe(0);
  });

  it('a paused alert does not fire; resumed, it does', async () => {
    quotes.set('PETR4', quoteOf('PETR4', 38.5));
    service = make();
    await service.start();
    const { alert } = await service.create(alice, { kind: 'price_below', ticker: 'PETR4', threshold: 38.4 });
    await service.update(alice, alert.id, { status: 'paused' });
    batch('PETR4', [38.3]);
    batch('PETR4', [38.5]);
    await new Promise((r) => setTimeout(r, 50));
    expect(firings(alice)).toHaveLength(0);
    await service.update(alice, alert.id, { status: 'active' });
    batch('PETR4', [38.4]);
    await until(() => firings(alice).length === 1, 'the firing after the resume');
  });

  it('order alerts follow the account: fills, a broker cancel, not Tape’s own cancel nor another account', async () => {
    service = make();
    await service.start();
    await service.create(alice, {
      kind: 'order',
      orderEvents: ['filled', 'partially_filled', 'cancelled', 'rejected'],
    });
    service.order(order({ id: 10, state: 'new' }));
    service.order(order({ id: 10, state: 'partially_filled', filledQty: 40, avgFillPrice: 38.5 }));
    service.order(order({ id: 10, state: 'filled', filledQty: 100, avgFillPrice: 38.52 }));
    // Tape asked for this cancel (pending_cancel first): not told.
    service.order(order({ id: 11, state: 'new' }));
    service.order(order({ id: 11, state: 'pending_cancel' }));
    service.order(order({ id: 11, state: 'canceled' }));
    // The broker cancelled this one.
    service.order(order({ id: 12, state: 'new' }));
    service.order(order({ id: 12, state: 'canceled' }));
    // Another account's fill is not Alice's.
    service.order(order({ id: 13, accountId: 'ACC-2', state: 'filled', filledQty: 100, avgFillPrice: 38.5 }));
    await until(() => firings(alice).length === 3, 'three order firings');
    await new Promise((r) => setTimeout(r, 50));
    const events = firings(alice).map(
      (m) => (m as Extract<ServerMessage, { type: 'alert' }>).firing.orderEvent,
    );
    expect(events.sort()).toEqual(['cancelled', 'filled', 'partially_filled']);
    const fill = firings(alice)
      .map((m) => m as Extract<ServerMessage, { type: 'alert' }>)
      .find((m) => m.firing.orderEvent === 'filled');
    expect(fill?.notification).toMatchObject({ url: '/?order=10' });
    expect(fill?.firing.price).toBe(38.52);
  });

  it('with no socket open, a firing reaches each device by Web Push, decrypted as sent; a gone device is dropped', async () => {
    quotes.set('PETR4', quoteOf('PETR4', 38.5));
    connected = false;
    const phone = receiver.subscribe();
    const gone = receiver.subscribe({ answer: 410 });
    const { parseSubscription } = await import('./push.ts');
    await store.addDevice(alice, parseSubscription(phone.subscription, true), 'phone');
    await store.addDevice(alice, parseSubscription(gone.subscription, true), 'old laptop');
    service = make();
    await service.start();
    await service.create(alice, { kind: 'price_above', ticker: 'PETR4', threshold: 38.6 });
    batch('PETR4', [38.65]);
    const [got] = await receiver.waitFor(1, 5_000);
    const payload = JSON.parse(got?.payload ?? '{}');
    expect(payload).toMatchObject({ title: 'PETR4 acima de 38,60', url: '/?ticker=PETR4' });
    expect(payload.firing).toMatchObject({ price: 38.65 });
    await until(async () => (await store.devices(alice)).length === 1, 'the gone device dropped');
    expect((await store.devices(alice))[0]?.label).toBe('phone');
    // Disabled by an admin: the firing is kept, no device of hers is told.
    disabledUsers.add(alice);
    const pushed = receiver.received.length;
    await service.create(alice, { kind: 'price_above', ticker: 'PETR4', threshold: 38.7 });
    batch('PETR4', [38.75]);
    await until(async () => (await service.history(alice, 10)).length === 2, 'the second firing stored');
    await new Promise((r) => setTimeout(r, 100));
    expect(receiver.received.length).toBe(pushed);
  });

  it('quiet hours hold the notification (stored as quiet, not pushed); past the rate, one summary', async () => {
    quotes.set('PETR4', quoteOf('PETR4', 38.5));
    connected = false;
    const phone = receiver.subscribe();
    const { parseSubscription } = await import('./push.ts');
    await store.addDevice(alice, parseSubscription(phone.subscription, true), 'phone');
    const before = receiver.received.length;
    service = make(300);
    await service.start();
    // Quiet all day but one minute: now is inside.
    await service.setSettings(alice, { quietFrom: '00:00', quietTo: '23:59', perMinute: 2 });
    now = Date.parse('2026-12-08T15:00:00Z');
    await service.create(alice, {
      kind: 'price_above',
      ticker: 'PETR4',
      threshold: 38.6,
      expiry: { kind: 'never' },
    });
    batch('PETR4', [38.6]);
    await until(() => firings(alice).length === 1, 'the quiet firing told');
    expect((firings(alice)[0] as Extract<ServerMessage, { type: 'alert' }>).firing.notified).toBe('quiet');
    expect((firings(alice)[0] as Extract<ServerMessage, { type: 'alert' }>).notification).toBeNull();
    await new Promise((r) => setTimeout(r, 100));
    expect(receiver.received.length).toBe(before);
    // No quiet hours, two a minute: four firings at once → two sent, two held, one summary.
    await service.setSettings(alice, { quietFrom: null, quietTo: null, perMinute: 2 });
    for (const level of [38.7, 38.8, 38.9, 39])
      await service.create(alice, { kind: 'price_above', ticker: 'PETR4', threshold: level });
    batch('PETR4', [39.1]);
    await until(() => firings(alice).length === 5, 'four more firings');
    const notified = firings(alice)
      .slice(1)
      .map((m) => (m as Extract<ServerMessage, { type: 'alert' }>).firing.notified);
    expect(notified.sort()).toEqual(['rate', 'rate', 'sent', 'sent']);
    await until(() => told.some((t) => t.message.type === 'alertSummary'), 'the summary');
    const summary = told.find((t) => t.message.type === 'alertSummary')?.message as Extract<
      ServerMessage,
      { type: 'alertSummary' }
    >;
    expect(summary.count).toBe(2);
    // Pushed: the two sent and the summary.
    const got = await receiver.waitFor(before + 3, 5_000);
    expect(got.slice(before).map((r) => JSON.parse(r.payload).tag)).toContain('alert-summary');
  });
});

describe('the rules', () => {
  it('tells an order event from what the order was last seen as', () => {
    expect(orderEvent(undefined, { state: 'filled', filledQty: 100 })).toBe('filled');
    expect(
      orderEvent({ state: 'filled', filledQty: 100 }, { state: 'filled', filledQty: 100 }),
    ).toBeUndefined();
    expect(orderEvent({ state: 'new', filledQty: 0 }, { state: 'partially_filled', filledQty: 10 })).toBe(
      'partially_filled',
    );
    expect(
      orderEvent({ state: 'partially_filled', filledQty: 10 }, { state: 'partially_filled', filledQty: 10 }),
    ).toBeUndefined();
    expect(
      orderEvent({ state: 'pending_cancel', filledQty: 0 }, { state: 'canceled', filledQty: 0 }),
    ).toBeUndefined();
    expect(orderEvent({ state: 'new', filledQty: 0 }, { state: 'expired', filledQty: 0 })).toBe('cancelled');
    expect(orderEvent({ state: 'pending_new', filledQty: 0 }, { state: 'rejected', filledQty: 0 })).toBe(
      'rejected',
    );
  });

  it('quiet hours are Brasília time, and a span may cross midnight', () => {
    const at = (hhmm: string) => Date.parse(`2026-12-08T${hhmm}:00-03:00`);
    const night = { quietFrom: '22:00', quietTo: '07:00', perMinute: 6 };
    expect(inQuietHours(night, at('23:30'))).toBe(true);
    expect(inQuietHours(night, at('06:59'))).toBe(true);
    expect(inQuietHours(night, at('07:00'))).toBe(false);
    expect(inQuietHours(night, at('12:00'))).toBe(false);
    const lunch = { quietFrom: '12:00', quietTo: '13:30', perMinute: 6 };
    expect(inQuietHours(lunch, at('12:00'))).toBe(true);
    expect(inQuietHours(lunch, at('13:30'))).toBe(false);
    expect(inQuietHours({ quietFrom: null, quietTo: null, perMinute: 6 }, at('03:00'))).toBe(false);
  });
});
