import { createECDH, createPrivateKey, randomBytes, sign } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import webPush from 'web-push';
import { Refusal } from '../refusal.ts';
import type { AlertFiringJson, NotificationPayload } from '../shared/alerts.ts';
import { type PushReceiver, startPushReceiver } from '../testing/pushReceiver.ts';
import {
  MAX_ENDPOINT_CHARS,
  MAX_PAYLOAD_BYTES,
  newVapidKeys,
  type PushTarget,
  parseSubscription,
  WebPushSender,
} from './push.ts';

// Web Push end to end with real encryption: WebPushSender posts to the receiver double, which
// verifies the VAPID token and decrypts with the subscription's private key, as a browser's
// push service and the browser would.

const keys = newVapidKeys('mailto:alerts@tape.example');
const sender = new WebPushSender(keys);

const firing: AlertFiringJson = {
  id: 91,
  alertId: 12,
  kind: 'price_above',
  ticker: 'PETR4',
  firedAt: '2026-12-02T14:05:00.000Z',
  price: 38.5,
  value: null,
  threshold: 38.5,
  orderId: null,
  orderEvent: null,
  notified: 'sent',
};
const payload: NotificationPayload = {
  title: 'PETR4 acima de 38,50',
  body: 'Último: 38,52 — alerta de preço',
  tag: 'alert-12',
  url: '/?ticker=PETR4',
  firing,
};

let receiver: PushReceiver;
beforeAll(async () => {
  receiver = await startPushReceiver();
});
afterAll(() => receiver.close());

/** A fresh subscription of the receiver, as the server would keep it. */
function target(opts?: { answer?: number; hang?: boolean }): { target: PushTarget; id: string } {
  const { subscription, id } = receiver.subscribe(opts);
  return { target: parseSubscription(subscription, true), id };
}

const pushesTo = (id: string) => receiver.received.filter((r) => r.id === id);
const refusalsOf = (id: string) => receiver.refused.filter((r) => r.id === id);

describe('WebPushSender', () => {
  it('delivers the exact payload, encrypted to the subscription and signed by its VAPID key', async () => {
    const { target: to, id } = target();
    expect(await sender.send(to, payload)).toEqual({ kind: 'sent', status: 201 });
    const [push] = pushesTo(id);
    expect(push?.payload).toBe(JSON.stringify(payload));
    expect(JSON.parse(push?.payload ?? '')).toEqual(payload);
    expect(push?.ttl).toBe(3600);
    expect(push?.urgency).toBe('high');
    expect(push?.headers['content-encoding']).toBe('aes128gcm');
    expect(push?.vapid).toMatchObject({ k: keys.publicKey, aud: receiver.origin, sub: keys.subject });
    // One aes128gcm record: 86 bytes of header, the payload, its delimiter and the 16-byte tag.
    expect(push?.headers['content-length']).toBe(
      String(86 + Buffer.byteLength(JSON.stringify(payload)) + 17),
    );
  });

  it('sends its TTL and urgency', async () => {
    const quiet = new WebPushSender(keys, { ttlS: 60, urgency: 'normal' });
    const { target: to, id } = target();
    expect((await quiet.send(to, payload)).kind).toBe('sent');
    expect(pushesTo(id)[0]).toMatchObject({ ttl: 60, urgency: 'normal' });
  });

  it('is refused (403) by a push service that pinned another VAPID key', async () => {
    receiver.expectKey(keys.publicKey);
    try {
      const { target: mine, id: minesId } = target();
      expect((await sender.send(mine, payload)).kind).toBe('sent');
      expect(pushesTo(minesId)).toHaveLength(1);

      const other = new WebPushSender(newVapidKeys('https://other.example/contact'));
      const { target: to, id } = target();
      expect(await other.send(to, payload)).toEqual({
        kind: 'failed',
        status: 403,
        reason: 'the push service answered 403',
      });
      expect(pushesTo(id)).toEqual([]);
      expect(refusalsOf(id)).toEqual([
        { id, status: 403, reason: expect.stringContaining('another VAPID key') },
      ]);
    } finally {
      receiver.expectKey(undefined);
    }
  });

  it('reports 404 and 410 as gone, and other answers as failed without keys or token', async () => {
    expect(await sender.send(target({ answer: 410 }).target, payload)).toEqual({ kind: 'gone', status: 410 });
    expect(await sender.send(target({ answer: 404 }).target, payload)).toEqual({ kind: 'gone', status: 404 });
    const { target: to } = target({ answer: 500 });
    const failed = await sender.send(to, payload);
    expect(failed).toEqual({ kind: 'failed', status: 500, reason: 'the push service answered 500' });
    for (const secret of [keys.privateKey, keys.publicKey, to.auth, to.p256dh, 'eyJ'])
      expect(JSON.stringify(failed)).not.toContain(secret);
    // A 2xx other than 201 is taken too (some services answer 200 or 202).
    expect(await sender.send(target({ answer: 202 }).target, payload)).toEqual({ kind: 'sent', status: 202 });
  });

  it('gives up on a push service that does not answer in time', async () => {
    const impatient = new WebPushSender(keys, { timeoutMs: 200 });
    const started = Date.now();
    expect(await impatient.send(target({ hang: true }).target, payload)).toEqual({
      kind: 'failed',
      reason: 'no answer in 200 ms',
    });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('reports a push service it cannot reach', async () => {
    const closed = await startPushReceiver();
    const { subscription } = closed.subscribe();
    await closed.close();
    const outcome = await sender.send(parseSubscription(subscription, true), payload);
    expect(outcome).toEqual({ kind: 'failed', reason: 'could not reach the push service (ECONNREFUSED)' });
  });

  it('drops the firing from a payload that would pass 4 KB, and sends nothing past it without', async () => {
    const long = { ...payload, body: 'ç'.repeat(1900) };
    expect(Buffer.byteLength(JSON.stringify(long))).toBeGreaterThan(MAX_PAYLOAD_BYTES);
    const { target: to, id } = target();
    expect((await sender.send(to, long)).kind).toBe('sent');
    const { firing: _, ...bare } = long;
    expect(JSON.parse(pushesTo(id)[0]?.payload ?? '')).toEqual(bare);
    // The receiver takes 4096 bytes of body: the largest payload fits exactly.
    const { target: edge, id: edgeId } = target();
    const largest = { ...bare, body: '' };
    const fill = MAX_PAYLOAD_BYTES - Buffer.byteLength(JSON.stringify(largest));
    expect((await sender.send(edge, { ...largest, body: 'x'.repeat(fill) })).kind).toBe('sent');
    expect(pushesTo(edgeId)[0]?.headers['content-length']).toBe('4096');

    const { target: huge, id: hugeId } = target();
    expect(await sender.send(huge, { ...largest, body: 'x'.repeat(fill + 1) })).toEqual({
      kind: 'failed',
      reason: `payload over ${MAX_PAYLOAD_BYTES} bytes even without its firing`,
    });
    expect(pushesTo(hugeId)).toEqual([]);
    expect(refusalsOf(hugeId)).toEqual([]);
  });

  it('keeps any title and body intact through encryption', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.string({ maxLength: 300 }),
        async (title, body) => {
          const { target: to, id } = target();
          const sent = { ...payload, title, body };
          expect(await sender.send(to, sent)).toEqual({ kind: 'sent', status: 201 });
          expect(JSON.parse(pushesTo(id)[0]?.payload ?? '')).toEqual(sent);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('refuses VAPID keys that cannot sign when it is made', () => {
    expect(() => new WebPushSender({ ...keys, subject: 'alerts@tape.example' })).toThrow(/subject/);
    expect(() => new WebPushSender({ ...keys, privateKey: 'short' })).toThrow(/private key/);
  });
});

describe('the push receiver double', () => {
  /** A push built by web-push itself for `subscription`, to be bent before it is posted. */
  function request(subscription: webPush.PushSubscription, vapid = keys) {
    const details = webPush.generateRequestDetails(subscription, JSON.stringify(payload), {
      vapidDetails: vapid,
      TTL: 30,
      contentEncoding: 'aes128gcm',
    });
    const { 'Content-Length': _, ...headers } = details.headers;
    return {
      headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)])),
      body: details.body,
    };
  }
  const post = (endpoint: string, headers: Record<string, string>, body: Buffer) =>
    fetch(endpoint, { method: 'POST', headers, body: new Uint8Array(body) });

  /** Posts the bent request and returns the receiver's refusal of it. */
  async function refusal(
    bend: (r: { headers: Record<string, string>; body: Buffer }) => void,
    vapid = keys,
    audience?: string,
  ) {
    const { subscription, id } = receiver.subscribe();
    // A token for another origin is made by building the request for an endpoint there.
    const built = request(
      audience ? { ...subscription, endpoint: `${audience}/push/${id}` } : subscription,
      vapid,
    );
    bend(built);
    const res = await post(subscription.endpoint, built.headers, built.body);
    expect(pushesTo(id)).toEqual([]);
    const [refused] = refusalsOf(id);
    expect(refused?.status).toBe(res.status);
    expect(await res.text()).toBe(refused?.reason);
    return refused;
  }

  it('takes the unbent request (so each refusal below is the bend)', async () => {
    const { subscription, id } = receiver.subscribe();
    const built = request(subscription);
    expect((await post(subscription.endpoint, built.headers, built.body)).status).toBe(201);
    expect(pushesTo(id)[0]?.payload).toBe(JSON.stringify(payload));
  });

  it('refuses a body with one byte flipped', async () => {
    const refused = await refusal((r) => {
      r.body[r.body.length - 20] = (r.body[r.body.length - 20] as number) ^ 1;
    });
    expect(refused).toMatchObject({ status: 400, reason: expect.stringContaining('does not decrypt') });
  });

  it('refuses a body sealed to another subscription', async () => {
    const stranger = createECDH('prime256v1');
    stranger.generateKeys();
    const { subscription } = receiver.subscribe();
    const sealed = request({
      ...subscription,
      keys: { p256dh: stranger.getPublicKey('base64url'), auth: randomBytes(16).toString('base64url') },
    });
    const refused = await refusal((r) => {
      r.body = sealed.body;
    });
    expect(refused?.status).toBe(400);
  });

  it('refuses a token signed by another key than k', async () => {
    const other = newVapidKeys(keys.subject);
    const refused = await refusal((r) => {
      r.headers.Authorization = (r.headers.Authorization as string).replace(keys.publicKey, other.publicKey);
    });
    expect(refused).toEqual(
      expect.objectContaining({ status: 401, reason: expect.stringContaining('signature') }),
    );
  });

  it('refuses a token whose signature was changed', async () => {
    const refused = await refusal((r) => {
      r.headers.Authorization = (r.headers.Authorization as string).replace(
        /(t=[^.]+\.[^.]+\.)(.)/,
        (_, head: string, c: string) => head + (c === 'A' ? 'B' : 'A'),
      );
    });
    expect(refused?.status).toBe(401);
  });

  it('refuses a token made for another push service', async () => {
    const refused = await refusal(() => {}, keys, 'https://fcm.googleapis.com');
    expect(refused).toMatchObject({ status: 401, reason: expect.stringContaining('aud') });
  });

  /** A VAPID token of `keys` with the claims given, signed here rather than by web-push (which refuses them). */
  function token(claims: Record<string, unknown>) {
    const pub = Buffer.from(keys.publicKey, 'base64url');
    const key = createPrivateKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: pub.subarray(1, 33).toString('base64url'),
        y: pub.subarray(33).toString('base64url'),
        d: keys.privateKey,
      },
      format: 'jwk',
    });
    const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const input = `${part({ typ: 'JWT', alg: 'ES256' })}.${part(claims)}`;
    const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
    return `vapid t=${input}.${signature.toString('base64url')}, k=${keys.publicKey}`;
  }

  it('refuses a token that has expired, lasts over 24 h, or names no contact', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { aud: receiver.origin, exp: now + 600, sub: keys.subject };
    const withToken = (c: Record<string, unknown>) => (r: { headers: Record<string, string> }) => {
      r.headers.Authorization = token(c);
    };
    // The hand-made token itself is taken.
    const { subscription, id } = receiver.subscribe();
    const built = request(subscription);
    withToken(claims)(built);
    expect((await post(subscription.endpoint, built.headers, built.body)).status).toBe(201);
    expect(pushesTo(id)).toHaveLength(1);

    expect(await refusal(withToken({ ...claims, exp: now - 1 }))).toMatchObject({
      status: 401,
      reason: expect.stringContaining('expired'),
    });
    expect(await refusal(withToken({ ...claims, exp: now + 25 * 3600 }))).toMatchObject({
      status: 401,
      reason: expect.stringContaining('24 h'),
    });
    expect(await refusal(withToken({ ...claims, sub: 'http://tape.example' }))).toMatchObject({
      status: 401,
      reason: expect.stringContaining('sub'),
    });
  });

  it('refuses a push without TTL, in another encoding, or without VAPID', async () => {
    expect(
      await refusal((r) => {
        delete r.headers.TTL;
      }),
    ).toMatchObject({ status: 400, reason: expect.stringContaining('TTL') });
    expect(
      await refusal((r) => {
        r.headers['Content-Encoding'] = 'aesgcm';
      }),
    ).toMatchObject({ status: 400, reason: expect.stringContaining('aes128gcm') });
    expect(
      await refusal((r) => {
        delete r.headers.Authorization;
      }),
    ).toMatchObject({ status: 401, reason: 'no Authorization header' });
  });
});

describe('parseSubscription', () => {
  const point = () => {
    const ecdh = createECDH('prime256v1');
    return ecdh.generateKeys();
  };
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
  const good = {
    endpoint: 'https://fcm.googleapis.com/fcm/send/dGVzdA:APA91b',
    expirationTime: null,
    keys: { p256dh: b64(point()), auth: b64(randomBytes(16)) },
  };
  const refusalOf = (body: unknown, allowLoopback = false) => {
    try {
      parseSubscription(body, allowLoopback);
    } catch (err) {
      if (err instanceof Refusal) return { status: err.status, code: err.code, message: err.message };
      throw err;
    }
    return 'accepted';
  };
  const withEndpoint = (endpoint: string) => ({ ...good, endpoint });
  const withKeys = (k: Partial<typeof good.keys>) => ({ ...good, keys: { ...good.keys, ...k } });

  it('takes a browser subscription as it is', () => {
    expect(parseSubscription(good, false)).toEqual({
      endpoint: good.endpoint,
      p256dh: good.keys.p256dh,
      auth: good.keys.auth,
    });
    const { expirationTime: _, ...noExpiry } = good;
    expect(parseSubscription({ ...noExpiry }, false).endpoint).toBe(good.endpoint);
    expect(parseSubscription({ ...good, expirationTime: 1_900_000_000_000 }, false).endpoint).toBe(
      good.endpoint,
    );
    // Padded base64url is base64url too; kept unpadded.
    expect(parseSubscription(withKeys({ auth: `${good.keys.auth}==` }), false).auth).toBe(good.keys.auth);
  });

  it('takes http:// only to loopback, and only when allowed', () => {
    for (const endpoint of [
      'http://127.0.0.1:8080/push/a',
      'http://[::1]:8080/push/a',
      'http://localhost/push/a',
    ]) {
      expect(parseSubscription(withEndpoint(endpoint), true).endpoint).toBe(endpoint);
      expect(refusalOf(withEndpoint(endpoint))).toMatchObject({
        status: 400,
        code: 'invalid_subscription',
        message: expect.stringContaining('TAPE_PUSH_ALLOW_LOOPBACK=1'),
      });
    }
    for (const endpoint of [
      'http://10.0.0.7/push/a',
      'http://push.example/a',
      'ftp://127.0.0.1/a',
      'ws://localhost/a',
    ])
      expect(refusalOf(withEndpoint(endpoint), true)).toMatchObject({
        status: 400,
        message: 'endpoint must be an https:// URL: push services are reached over TLS',
      });
  });

  it('says what is wrong with each field', () => {
    const cases: [unknown, string | RegExp][] = [
      ['{"endpoint":1}', /body must be a JSON object/],
      [null, /body must be a JSON object/],
      [[good], /body must be a JSON object/],
      [{ keys: good.keys }, /^endpoint must be a string/],
      [{ ...good, expirationTime: '2027' }, /^expirationTime must be a number or null/],
      [{ endpoint: good.endpoint }, /^keys must be an object with p256dh and auth/],
      [{ ...good, keys: 'p256dh' }, /^keys must be an object/],
      [withKeys({ auth: undefined }), /^keys.auth must be a string/],
      [{ ...good, extra: 1 }, /^the subscription has fields a PushSubscription does not \(extra\)/],
      [
        { ...good, keys: { ...good.keys, junk: 'x' } },
        /^keys has fields a PushSubscription does not \(junk\)/,
      ],
      [withEndpoint('fcm.googleapis.com/fcm/send/x'), /^endpoint is not a URL/],
      [
        withEndpoint(`https://push.example/${'a'.repeat(MAX_ENDPOINT_CHARS)}`),
        /^endpoint is 2069 characters, over 2048/,
      ],
      [withKeys({ p256dh: `${good.keys.p256dh.slice(0, -2)}+/` }), /^keys.p256dh is not base64url/],
      [withKeys({ p256dh: `${good.keys.p256dh} ` }), /^keys.p256dh is not base64url/],
      [withKeys({ p256dh: `${good.keys.p256dh}AB` }), /^keys.p256dh is not base64url/],
      [withKeys({ p256dh: b64(point().subarray(1)) }), /^keys.p256dh must be 65 bytes .*, got 64$/],
      [
        withKeys({ p256dh: b64(Buffer.concat([point(), Buffer.of(0)])) }),
        /^keys.p256dh must be 65 bytes .*, got 66$/,
      ],
      [
        withKeys({ p256dh: b64(Buffer.concat([Buffer.of(3), point().subarray(1)])) }),
        /must start with 0x04.*got 0x03$/,
      ],
      [
        withKeys({ p256dh: b64(Buffer.concat([Buffer.of(4), Buffer.alloc(64, 1)])) }),
        /^keys.p256dh is not a point on P-256/,
      ],
      [withKeys({ auth: 'a+b/' }), /^keys.auth is not base64url/],
      [withKeys({ auth: b64(randomBytes(15)) }), /^keys.auth must be 16 bytes, got 15/],
      [withKeys({ auth: b64(randomBytes(17)) }), /^keys.auth must be 16 bytes, got 17/],
      [withKeys({ auth: '' }), /^keys.auth is not base64url/],
    ];
    for (const [body, message] of cases)
      expect(refusalOf(body), JSON.stringify(body).slice(0, 120)).toMatchObject({
        status: 400,
        code: 'invalid_subscription',
        message: expect.stringMatching(message),
      });
  });

  // Anything else a client sends: accepted only as a target that keeps every rule, else a 400.
  const keeps = (t: PushTarget, allowLoopback: boolean) => {
    const url = new URL(t.endpoint);
    expect(
      url.protocol === 'https:' ||
        (allowLoopback &&
          url.protocol === 'http:' &&
          ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname)),
    ).toBe(true);
    expect(t.endpoint.length).toBeLessThanOrEqual(MAX_ENDPOINT_CHARS);
    expect(Buffer.from(t.p256dh, 'base64url')).toHaveLength(65);
    expect(Buffer.from(t.auth, 'base64url')).toHaveLength(16);
  };
  const answerOf = (body: unknown, allowLoopback: boolean) => {
    try {
      keeps(parseSubscription(body, allowLoopback), allowLoopback);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      expect(err.status).toBe(400);
      expect(err.code).toBe('invalid_subscription');
      expect(err.message.length).toBeGreaterThan(10);
    }
  };

  it('answers any JSON with a target or a 400, never another error', () => {
    fc.assert(fc.property(fc.jsonValue(), fc.boolean(), (body, allow) => answerOf(body, allow)));
    fc.assert(
      fc.property(fc.string(), fc.boolean(), (text, allow) => {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
        answerOf(body, allow);
      }),
    );
  });

  it('answers near-subscriptions with a target or a 400', () => {
    const key = (bytes: number) =>
      fc.oneof(
        fc.uint8Array({ minLength: bytes - 2, maxLength: bytes + 2 }).map(b64),
        fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => `${b64(b)}=`),
        fc.string(),
        fc.constant(bytes === 65 ? good.keys.p256dh : good.keys.auth),
        fc.integer(),
      );
    const endpoint = fc.oneof(
      fc.constant(good.endpoint),
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.webUrl().map((u) => u.replace(/^https?:\/\/[^/]+/, 'http://127.0.0.1:9')),
      fc.string(),
      fc.constant(`https://x.example/${'y'.repeat(MAX_ENDPOINT_CHARS)}`),
    );
    const near = fc.record(
      {
        endpoint,
        expirationTime: fc.oneof(fc.constant(null), fc.integer(), fc.string()),
        keys: fc.record({ p256dh: key(65), auth: key(16) }, { requiredKeys: [] }),
        junk: fc.jsonValue(),
      },
      { requiredKeys: ['endpoint', 'keys'] },
    );
    fc.assert(
      fc.property(near, fc.boolean(), (body, allow) => answerOf(body, allow)),
      { numRuns: 500 },
    );
  });
});
