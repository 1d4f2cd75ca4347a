import { ECDH } from 'node:crypto';
import webPush from 'web-push';
import { z } from 'zod';
import { Refusal } from '../refusal.ts';
import type { NotificationPayload } from '../shared/alerts.ts';

// Web Push to the browsers' push services: a device's subscription checked as it arrives, and
// one notification sent to it, encrypted (RFC 8291, aes128gcm) and signed (VAPID, RFC 8292) by
// web-push, posted with fetch (RFC 8030). What the push service answers is the outcome; nothing
// here retries or stores.

/** The server's VAPID key pair (base64url, P-256) and the contact the push services see. */
export interface VapidKeys {
  readonly publicKey: string;
  readonly privateKey: string;
  /** `mailto:` or `https:`: whom a push service writes to about this sender. */
  readonly subject: string;
}

export function newVapidKeys(subject: string): VapidKeys {
  return { ...webPush.generateVAPIDKeys(), subject };
}

/** Where one device's notifications go: its push service's endpoint and its keys (base64url). */
export interface PushTarget {
  readonly endpoint: string;
  readonly p256dh: string;
  readonly auth: string;
}

/** Longest endpoint kept; the push services' are well under 1 KB. */
export const MAX_ENDPOINT_CHARS = 2048;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

const refuse = (what: string) => new Refusal(400, 'invalid_subscription', what);

const SEND_AS_IS = 'send PushSubscription.toJSON() as the browser gives it';

/** An object's zod error: `what` when it is no object, or the fields it should not have. */
const objectError = (what: string, within: string) => (issue: z.core.$ZodRawIssue) =>
  issue.code === 'unrecognized_keys'
    ? `${within} has fields a PushSubscription does not (${issue.keys.join(', ')}): ${SEND_AS_IS}`
    : what;

const subscriptionShape = z
  .object(
    {
      endpoint: z.string({ error: `endpoint must be a string: ${SEND_AS_IS}` }),
      expirationTime: z.number({ error: 'expirationTime must be a number or null' }).nullable().optional(),
      keys: z
        .object(
          {
            p256dh: z.string({ error: `keys.p256dh must be a string: ${SEND_AS_IS}` }),
            auth: z.string({ error: `keys.auth must be a string: ${SEND_AS_IS}` }),
          },
          { error: objectError(`keys must be an object with p256dh and auth: ${SEND_AS_IS}`, 'keys') },
        )
        .strict(),
    },
    { error: objectError(`the body must be a JSON object: ${SEND_AS_IS}`, 'the subscription') },
  )
  .strict();

/** A base64url string's bytes (RFC 4648 §5, padding allowed), or undefined if it is not one. */
function base64url(text: string): Buffer | undefined {
  const bare = text.replace(/={1,2}$/, '');
  if (!/^[A-Za-z0-9_-]+$/.test(bare)) return undefined;
  const bytes = Buffer.from(bare, 'base64url');
  // Node decodes leniently: only a text that encodes back to itself is base64url.
  return bytes.toString('base64url') === bare ? bytes : undefined;
}

/** Why `bytes` is no uncompressed P-256 public key, or undefined when it is one. */
function notP256Point(bytes: Buffer): string | undefined {
  if (bytes.length !== 65) return `must be 65 bytes (an uncompressed P-256 public key), got ${bytes.length}`;
  if (bytes[0] !== 4)
    return `must start with 0x04 (an uncompressed P-256 point), got 0x${bytes[0]?.toString(16).padStart(2, '0')}`;
  try {
    ECDH.convertKey(bytes, 'prime256v1');
    return undefined;
  } catch {
    return "is not a point on P-256: send the key the browser's PushSubscription gives";
  }
}

/**
 * A browser's PushSubscription JSON (`{ endpoint, expirationTime?, keys: { p256dh, auth } }`)
 * as a target, or a 400 `invalid_subscription` that says what is wrong. The endpoint must be
 * https://; plain http:// to a loopback host only with `allowLoopback` (tests).
 */
export function parseSubscription(body: unknown, allowLoopback: boolean): PushTarget {
  const r = subscriptionShape.safeParse(body);
  // Every message of the shape names its field.
  if (!r.success) throw refuse(r.error.issues[0]?.message ?? SEND_AS_IS);
  const { endpoint, keys } = r.data;
  if (endpoint.length > MAX_ENDPOINT_CHARS)
    throw refuse(
      `endpoint is ${endpoint.length} characters, over ${MAX_ENDPOINT_CHARS}: not a push service's`,
    );
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw refuse(`endpoint is not a URL: ${SEND_AS_IS}`);
  }
  if (url.protocol !== 'https:') {
    const loopback = url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
    if (!(loopback && allowLoopback))
      throw refuse(
        loopback
          ? 'endpoint is http:// on loopback, which only a test server takes (TAPE_PUSH_ALLOW_LOOPBACK=1)'
          : 'endpoint must be an https:// URL: push services are reached over TLS',
      );
  }
  const p256dh = base64url(keys.p256dh);
  if (!p256dh) throw refuse('keys.p256dh is not base64url (A–Z a–z 0–9 - _)');
  const notPoint = notP256Point(p256dh);
  if (notPoint) throw refuse(`keys.p256dh ${notPoint}`);
  const auth = base64url(keys.auth);
  if (!auth) throw refuse('keys.auth is not base64url (A–Z a–z 0–9 - _)');
  if (auth.length !== 16) throw refuse(`keys.auth must be 16 bytes, got ${auth.length}`);
  return { endpoint, p256dh: p256dh.toString('base64url'), auth: auth.toString('base64url') };
}

export type PushOutcome =
  | { kind: 'sent'; status: number }
  /** The subscription is gone (unsubscribed, expired): drop it. */
  | { kind: 'gone'; status: 404 | 410 }
  | { kind: 'failed'; status?: number; reason: string };

/**
 * Largest payload JSON in bytes: RFC 8291 asks push services to take 4096 bytes of body, and
 * aes128gcm adds 86 (salt, record size, key id, the sender's key) and 17 (delimiter, tag).
 */
export const MAX_PAYLOAD_BYTES = 4096 - 86 - 17;

/** A price alert an hour late says little; the alert history keeps the firing anyway. */
export const DEFAULT_TTL_S = 3600;
export const DEFAULT_PUSH_TIMEOUT_MS = 10_000;

/** The payload's JSON, without `firing` when that takes it past MAX_PAYLOAD_BYTES. */
function payloadJson(payload: NotificationPayload): string | undefined {
  const full = JSON.stringify(payload);
  if (Buffer.byteLength(full) <= MAX_PAYLOAD_BYTES) return full;
  const { firing: _, ...bare } = payload;
  const text = JSON.stringify(bare);
  return Buffer.byteLength(text) <= MAX_PAYLOAD_BYTES ? text : undefined;
}

/** Why a fetch failed, in a few words (a timeout, or the connection's error code). */
function networkReason(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))
    return `no answer in ${timeoutMs} ms`;
  const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : err instanceof Error ? err.message : 'unknown';
  return `could not reach the push service (${code})`;
}

/** Sends notifications as one VAPID identity; one instance serves every device. */
export class WebPushSender {
  private readonly vapidDetails: { subject: string; publicKey: string; privateKey: string };
  private readonly timeoutMs: number;
  private readonly ttlS: number;
  private readonly urgency: 'normal' | 'high';

  constructor(
    keys: VapidKeys,
    opts: { timeoutMs?: number; ttlS?: number; urgency?: 'normal' | 'high' } = {},
  ) {
    this.vapidDetails = { subject: keys.subject, publicKey: keys.publicKey, privateKey: keys.privateKey };
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_PUSH_TIMEOUT_MS;
    this.ttlS = opts.ttlS ?? DEFAULT_TTL_S;
    this.urgency = opts.urgency ?? 'high';
    // Signed once here so bad keys or subject stop start-up instead of failing every send.
    webPush.getVapidHeaders(
      'https://push.invalid',
      keys.subject,
      keys.publicKey,
      keys.privateKey,
      'aes128gcm',
    );
  }

  async send(target: PushTarget, payload: NotificationPayload): Promise<PushOutcome> {
    const text = payloadJson(payload);
    if (text === undefined)
      return { kind: 'failed', reason: `payload over ${MAX_PAYLOAD_BYTES} bytes even without its firing` };
    let request: webPush.RequestDetails;
    try {
      request = webPush.generateRequestDetails(
        { endpoint: target.endpoint, keys: { p256dh: target.p256dh, auth: target.auth } },
        text,
        {
          vapidDetails: this.vapidDetails,
          TTL: this.ttlS,
          urgency: this.urgency,
          contentEncoding: 'aes128gcm',
        },
      );
    } catch (err) {
      // web-push's messages name the field at fault, never a key's value.
      return { kind: 'failed', reason: `could not encrypt: ${(err as Error).message}` };
    }
    // fetch sets Content-Length from the body itself.
    const headers = Object.fromEntries(
      Object.entries(request.headers)
        .filter(([name]) => name.toLowerCase() !== 'content-length')
        .map(([name, value]) => [name, String(value)]),
    );
    let status: number;
    try {
      const res = await fetch(request.endpoint, {
        method: 'POST',
        headers,
        body: request.body ? new Uint8Array(request.body) : null,
        // A push service does not redirect; following one would repost the VAPID token elsewhere.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.status;
      // Read to the end so the connection is reused; the answer stands whatever the body does.
      await res.arrayBuffer().catch(() => undefined);
    } catch (err) {
      return { kind: 'failed', reason: networkReason(err, this.timeoutMs) };
    }
    if (status === 200 || status === 201 || status === 202) return { kind: 'sent', status };
    if (status === 404 || status === 410) return { kind: 'gone', status };
    return { kind: 'failed', status, reason: `the push service answered ${status}` };
  }
}
