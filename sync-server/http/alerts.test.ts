import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { AlertJson } from '../shared/alerts.ts';
import type { ServerMessage } from '../shared/market.ts';
import { b3Now } from '../testing/market.ts';
import { type PushReceiver, startPushReceiver } from '../testing/pushReceiver.ts';
import { restClient } from '../testing/rest.ts';
import { backends, login, startTestServer, type TestServer } from '../testing/server.ts';
import { until } from '../testing/until.ts';

// Alerts through the whole server: REST as each user (their own only), the simulator's trades
// through capture and the batch path into the evaluator, the firing on the user's socket, and,
// with the app closed (no socket), Web Push to the device, decrypted by the local push receiver.

type Json = Record<string, unknown> & { alert?: AlertJson; alerts?: AlertJson[]; error?: string };

describe.each(backends())('alerts over REST and the sockets on %s', (backend) => {
  let t: TestServer;
  let receiver: PushReceiver;
  const tokens: Record<string, string> = {};
  const api = restClient<Json>(() => t.url, tokens);
  let tradeNumber = 1;
  const trade = async (price: number) => {
    t.server.connector.sim?.injectTrade({
      ticker: 'PETR4',
      exchange: 'B',
      date: b3Now(),
      price,
      qty: 100,
      tradeNumber: tradeNumber++,
    });
    await until(() => t.server.market.quote('PETR4')?.last === price, `PETR4 at ${price}`);
  };
  const socket = async (who: string) => {
    const got: ServerMessage[] = [];
    const ws = new WebSocket(`${t.wsUrl}?token=${tokens[who]}`);
    ws.on('message', (data, binary) => {
      if (!binary) got.push(JSON.parse(String(data)) as ServerMessage);
    });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return { ws, got };
  };

  beforeAll(async () => {
    receiver = await startPushReceiver();
    t = await startTestServer(backend, { TAPE_PUSH_ALLOW_LOOPBACK: '1' });
    t.server.connector.sim?.setRate(0);
    tokens.admin = await login(t.url);
    for (const [name, role] of [
      ['ana', 'trader'],
      ['beto', 'viewer'],
    ] as const) {
      expect(
        (await api('admin', 'POST', '/api/v1/users', { username: name, password: `${name}-password`, role }))
          .status,
      ).toBe(201);
      tokens[name] = await login(t.url, name, `${name}-password`);
    }
    await until(() => t.server.feed.status.connected, 'the market connected');
    await trade(38.5);
    // The server's own key signs its pushes.
    receiver.expectKey(
      ((await api('ana', 'GET', '/api/v1/push/key')).body as { publicKey: string }).publicKey,
    );
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it('each user sees and edits only their own alerts; bad input is refused with a reason', async () => {
    const made = await api('ana', 'POST', '/api/v1/alerts', {
      kind: 'price_above',
      ticker: 'PETR4',
      threshold: 40.003,
    });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ alert: { threshold: 40, status: 'active' }, snappedFrom: 40.003 });
    const id = (made.body.alert as AlertJson).id;
    expect((await api('beto', 'GET', '/api/v1/alerts')).body.alerts).toEqual([]);
    expect((await api('beto', 'PATCH', `/api/v1/alerts/${id}`, { status: 'paused' })).status).toBe(404);
    expect((await api('beto', 'DELETE', `/api/v1/alerts/${id}`)).status).toBe(404);
    expect((await api(null, 'GET', '/api/v1/alerts')).status).toBe(401);
    const paused = await api('ana', 'PATCH', `/api/v1/alerts/${id}`, { status: 'paused' });
    expect(paused.body.alert?.status).toBe('paused');
    // Bad bodies: an unknown kind, an extra field, a threshold already passed, a bad subscription.
    expect(
      (await api('ana', 'POST', '/api/v1/alerts', { kind: 'price_sideways', ticker: 'PETR4' })).status,
    ).toBe(400);
    expect(
      (
        await api('ana', 'POST', '/api/v1/alerts', {
          kind: 'price_above',
          ticker: 'PETR4',
          threshold: 41,
          x: 1,
        })
      ).status,
    ).toBe(400);
    const past = await api('ana', 'POST', '/api/v1/alerts', {
      kind: 'price_below',
      ticker: 'PETR4',
      threshold: 39,
    });
    expect(past).toMatchObject({ status: 422, body: { error: 'already_past' } });
    const bad = await api('ana', 'POST', '/api/v1/push/devices', {
      label: 'phone',
      subscription: { endpoint: 'http://push.example.com/x', keys: { p256dh: 'abc', auth: 'def' } },
    });
    expect(bad).toMatchObject({ status: 400, body: { error: 'invalid_subscription' } });
    const settings = await api('ana', 'PUT', '/api/v1/alerts/settings', {
      quietFrom: '22:00',
      quietTo: null,
      perMinute: 6,
    });
    expect(settings.status).toBe(400);
    expect((await api('ana', 'DELETE', `/api/v1/alerts/${id}`)).status).toBe(204);
  });

  it('a trade through the simulator fires the alert on the open socket; with none open, by Web Push', async () => {
    const { ws, got } = await socket('ana');
    const made = await api('ana', 'POST', '/api/v1/alerts', {
      kind: 'price_above',
      ticker: 'PETR4',
      threshold: 38.6,
    });
    expect(made.status).toBe(201);
    await trade(38.55);
    await trade(38.62);
    const fired = await until(
      () => got.find((m): m is Extract<ServerMessage, { type: 'alert' }> => m.type === 'alert'),
      'the alert on the socket',
    );
    expect(fired.firing).toMatchObject({ ticker: 'PETR4', price: 38.62, threshold: 38.6, notified: 'sent' });
    expect(fired.notification?.url).toBe('/?ticker=PETR4');
    // Only Ana's socket is told: not Beto's.
    const other = await socket('beto');
    ws.close();
    const ana = await userIdOf('ana');
    await until(() => !t.server.alerts.online(ana), 'ana offline');

    // The app closed: a device of Ana's gets it by Web Push.
    const phone = receiver.subscribe();
    const device = await api('ana', 'POST', '/api/v1/push/devices', {
      subscription: phone.subscription,
      label: 'phone',
    });
    expect(device.status).toBe(201);
    const before = receiver.received.length;
    expect(
      (await api('ana', 'POST', '/api/v1/alerts', { kind: 'price_below', ticker: 'PETR4', threshold: 38.4 }))
        .status,
    ).toBe(201);
    await trade(38.4);
    const pushed = await receiver.waitFor(before + 1, 10_000);
    const payload = JSON.parse(pushed.at(-1)?.payload ?? '{}');
    expect(payload).toMatchObject({ title: 'PETR4 abaixo de 38,40', url: '/?ticker=PETR4' });
    expect(payload.firing).toMatchObject({ price: 38.4 });
    // The history holds both, newest first.
    const history = (await api('ana', 'GET', '/api/v1/alerts/history')).body as {
      firings: { price: number }[];
    };
    expect(history.firings.map((f) => f.price)).toEqual([38.4, 38.62]);
    expect(other.got.some((m) => m.type === 'alert')).toBe(false);
    other.ws.close();
  });

  const userIdOf = async (name: string) => {
    const users = (await api('admin', 'GET', '/api/v1/users')).body as {
      users: { userId: number; username: string }[];
    };
    return users.users.find((u) => u.username === name)?.userId as number;
  };
});
