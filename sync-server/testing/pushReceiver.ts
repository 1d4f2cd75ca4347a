import {
  createDecipheriv,
  createECDH,
  createPublicKey,
  type ECDH,
  hkdfSync,
  type KeyObject,
  randomBytes,
  verify,
} from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { until } from './until.ts';

// A push service for tests, since none can be reached from here: node:http on 127.0.0.1 that
// takes RFC 8030 pushes, checks the VAPID token (RFC 8292) and decrypts the aes128gcm body
// (RFC 8291) with the keys of subscriptions it made itself, the browser's side of Web Push.
// A request it would not take is answered 400/401/403/413 and kept in `refused` with why, so a
// test sees a broken sender as a refusal, never as a notification.

/** A PushSubscription's JSON, as a browser's `toJSON()` gives it. */
export interface SubscriptionJson {
  readonly endpoint: string;
  readonly expirationTime: null;
  readonly keys: { readonly p256dh: string; readonly auth: string };
}

export interface ReceivedPush {
  /** The subscription's id (the endpoint's last segment). */
  readonly id: string;
  readonly headers: IncomingHttpHeaders;
  /** The decrypted payload. */
  readonly payload: string;
  readonly ttl: number;
  readonly urgency: string;
  /** The verified token's claims and the key that signed it. */
  readonly vapid: { readonly k: string; readonly aud: string; readonly sub: string; readonly exp: number };
}

export interface RefusedPush {
  readonly id: string;
  readonly status: number;
  readonly reason: string;
}

export interface PushReceiver {
  /** http://127.0.0.1:<port> */
  readonly origin: string;
  readonly received: ReceivedPush[];
  readonly refused: RefusedPush[];
  /**
   * A new subscription: `answer` is the status its endpoint gives a valid push (201 by
   * default; 410 for one unsubscribed); `hang` leaves every request to it unanswered.
   */
  subscribe(opts?: { answer?: number; hang?: boolean }): { subscription: SubscriptionJson; id: string };
  /**
   * Refuses (403) a push signed with any other VAPID key, as a subscription made with an
   * applicationServerKey does; undefined takes any key again.
   */
  expectKey(publicKey: string | undefined): void;
  /** The first `n` pushes received, once they have arrived. */
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedPush[]>;
  close(): Promise<void>;
}

interface Subscription {
  readonly ecdh: ECDH;
  readonly publicKey: Buffer;
  readonly auth: Buffer;
  readonly answer: number;
  readonly hang: boolean;
}

/** A request refused: its status and why. */
class Refused extends Error {
  constructor(
    readonly status: number,
    reason: string,
  ) {
    super(reason);
  }
}

const URGENCIES = new Set(['very-low', 'low', 'normal', 'high']);
const MAX_BODY_BYTES = 4096;
const MAX_EXP_AHEAD_S = 24 * 3600;

function check(ok: boolean, status: number, reason: string): asserts ok {
  if (!ok) throw new Refused(status, reason);
}

/** A P-256 public key from its uncompressed bytes. */
function p256Key(point: Buffer): KeyObject {
  return createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33, 65).toString('base64url'),
    },
    format: 'jwk',
  });
}

function jsonPart(part: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {}
  throw new Refused(401, 'VAPID token: a part is not base64url JSON');
}

function isContact(sub: string): boolean {
  try {
    return ['mailto:', 'https:'].includes(new URL(sub).protocol);
  } catch {
    return false;
  }
}

/** RFC 8292: `vapid t=<jwt>, k=<key>`, the JWT ES256-signed by k for this origin, not expired. */
function checkVapid(authorization: string | undefined, origin: string, expected: string | undefined) {
  check(authorization !== undefined, 401, 'no Authorization header');
  const scheme = /^vapid\s+(.*)$/i.exec(authorization);
  check(scheme !== null, 401, 'Authorization is not the vapid scheme');
  const params = new Map(
    (scheme[1] as string).split(',').map((p) => {
      const [name = '', ...value] = p.trim().split('=');
      return [name.toLowerCase(), value.join('=')] as const;
    }),
  );
  const t = params.get('t');
  const k = params.get('k');
  check(t !== undefined && k !== undefined, 401, 'vapid needs both t and k');
  const point = Buffer.from(k, 'base64url');
  check(point.length === 65 && point[0] === 4, 401, 'k is not an uncompressed P-256 key');
  let key: KeyObject;
  try {
    key = p256Key(point);
  } catch {
    throw new Refused(401, 'k is not a point on P-256');
  }
  const parts = t.split('.');
  check(parts.length === 3, 401, 'VAPID token is not a JWS compact serialisation');
  const [head, body, signature] = parts as [string, string, string];
  const header = jsonPart(head);
  check(header.alg === 'ES256', 401, `VAPID token alg is ${String(header.alg)}, not ES256`);
  const valid = verify(
    'sha256',
    Buffer.from(`${head}.${body}`),
    { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(signature, 'base64url'),
  );
  check(valid, 401, 'VAPID token signature does not verify with k');
  const claims = jsonPart(body);
  check(claims.aud === origin, 401, `VAPID aud is ${String(claims.aud)}, not ${origin}`);
  const now = Math.floor(Date.now() / 1000);
  const { exp, sub } = claims;
  check(typeof exp === 'number' && exp > now, 401, 'VAPID token has expired (or has no exp)');
  check(exp <= now + MAX_EXP_AHEAD_S, 401, 'VAPID exp is more than 24 h ahead');
  check(typeof sub === 'string' && isContact(sub), 401, 'VAPID sub is not a mailto: or https: URL');
  check(expected === undefined || k === expected, 403, 'signed by another VAPID key than the one expected');
  return { k, aud: claims.aud, sub, exp };
}

const info = (label: string) => Buffer.from(`Content-Encoding: ${label}\0`);

/** RFC 8291 with RFC 8188's aes128gcm: one record, keyed by ECDH with the sender's key in the header. */
function decrypt(body: Buffer, sub: Subscription): string {
  check(body.length <= MAX_BODY_BYTES, 413, `body of ${body.length} bytes, over ${MAX_BODY_BYTES}`);
  check(body.length >= 21, 400, 'body shorter than an aes128gcm header');
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20] as number;
  check(idlen === 65, 400, `keyid of ${idlen} bytes, not the sender's 65-byte public key`);
  check(rs >= 18, 400, `record size ${rs} under 18`);
  const keyid = body.subarray(21, 86);
  const record = body.subarray(86);
  check(record.length > 16, 400, 'no record after the header');
  check(record.length <= rs, 400, 'more than one record (RFC 8291 sends one)');
  let shared: Buffer;
  try {
    shared = sub.ecdh.computeSecret(keyid);
  } catch {
    throw new Refused(400, "keyid is not a P-256 point: no ECDH with the sender's key");
  }
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), sub.publicKey, keyid]);
  const ikm = Buffer.from(hkdfSync('sha256', shared, sub.auth, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, info('aes128gcm'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, info('nonce'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
  } catch {
    throw new Refused(400, 'the record does not decrypt (tag mismatch)');
  }
  let end = plain.length;
  while (end > 0 && plain[end - 1] === 0) end--;
  check(end > 0 && plain[end - 1] === 2, 400, 'no last-record delimiter (0x02) after the payload');
  return plain.subarray(0, end - 1).toString('utf8');
}

function answer(res: ServerResponse, status: number, text: string) {
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(text);
}

export async function startPushReceiver(): Promise<PushReceiver> {
  const subscriptions = new Map<string, Subscription>();
  const received: ReceivedPush[] = [];
  const refused: RefusedPush[] = [];
  let expected: string | undefined;
  let origin = '';
  let messages = 0;

  const server = createServer((req, res) => {
    const id = /^\/push\/([^/]+)$/.exec(req.url ?? '')?.[1] ?? '';
    const sub = subscriptions.get(id);
    if (sub?.hang) return;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        check(sub !== undefined, 404, `no subscription at ${req.url}`);
        check(req.method === 'POST', 405, `${req.method} instead of POST`);
        const { ttl, urgency = 'normal' } = req.headers;
        check(typeof ttl === 'string' && /^\d+$/.test(ttl), 400, 'no TTL header, or not seconds');
        check(
          typeof urgency === 'string' && URGENCIES.has(urgency),
          400,
          `Urgency ${String(urgency)} is not one of RFC 8030's`,
        );
        check(
          req.headers['content-encoding'] === 'aes128gcm',
          400,
          `Content-Encoding ${req.headers['content-encoding']} instead of aes128gcm`,
        );
        const vapid = checkVapid(req.headers.authorization, origin, expected);
        const payload = decrypt(Buffer.concat(chunks), sub);
        received.push({ id, headers: req.headers, payload, ttl: Number(ttl), urgency, vapid });
        if (sub.answer === 201) res.setHeader('location', `/message/${++messages}`);
        answer(res, sub.answer, '');
      } catch (err) {
        if (!(err instanceof Refused)) throw err;
        refused.push({ id, status: err.status, reason: err.message });
        answer(res, err.status, err.message);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    received,
    refused,
    subscribe({ answer = 201, hang = false } = {}) {
      const ecdh = createECDH('prime256v1');
      const publicKey = ecdh.generateKeys();
      const auth = randomBytes(16);
      const id = randomBytes(9).toString('base64url');
      subscriptions.set(id, { ecdh, publicKey, auth, answer, hang });
      return {
        id,
        subscription: {
          endpoint: `${origin}/push/${id}`,
          expirationTime: null,
          keys: { p256dh: publicKey.toString('base64url'), auth: auth.toString('base64url') },
        },
      };
    },
    expectKey(publicKey) {
      expected = publicKey;
    },
    waitFor: (n, timeoutMs = 5000) =>
      until(() => (received.length >= n ? received.slice(0, n) : undefined), `${n} pushes`, timeoutMs),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
