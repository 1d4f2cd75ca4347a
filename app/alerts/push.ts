import type { PushDeviceJson } from '../../sync-server/shared/alerts.ts';
import { api } from '../api/client.ts';
import { localDb } from '../data/db.ts';
import { type Message, msg } from '../i18n/i18n.ts';
import { whenSigningOut } from '../state/session.ts';

// Web Push on this device: the browser's permission, the server's VAPID key, a subscription from
// the service worker's push manager, and the server told where to send. Each step that can fail
// says what to do about it. The device's own id is kept, so removing it here also unsubscribes.

export type PushProblem = 'unsupported' | 'denied' | 'noServerKey' | 'noWorker' | 'subscribeFailed';

export class PushError extends Error {
  constructor(
    readonly problem: PushProblem,
    /** What the screen says. */
    readonly text: Message,
  ) {
    super(problem);
  }
}

const WORDS: Readonly<Record<Exclude<PushProblem, 'subscribeFailed'>, Message>> = {
  unsupported: msg('priceAlerts.push.unsupported'),
  denied: msg('priceAlerts.push.denied'),
  noServerKey: msg('priceAlerts.push.noServerKey'),
  noWorker: msg('priceAlerts.push.noWorker'),
};
const fail = (p: Exclude<PushProblem, 'subscribeFailed'>) => new PushError(p, WORDS[p]);

/** "Chrome · Android", "Firefox · Windows", "Safari · iOS": how the device list names this one. */
export function deviceLabel(ua: string): string {
  const browser = /Edg(A|iOS)?\//.test(ua)
    ? 'Edge'
    : /OPR\//.test(ua)
      ? 'Opera'
      : /Firefox\/|FxiOS\//.test(ua)
        ? 'Firefox'
        : /Chrome\/|CriOS\/|Chromium\//.test(ua)
          ? 'Chrome'
          : /Safari\//.test(ua)
            ? 'Safari'
            : 'Web';
  const os = /Android/.test(ua)
    ? 'Android'
    : /iPhone|iPad|iPod/.test(ua)
      ? 'iOS'
      : /Windows/.test(ua)
        ? 'Windows'
        : /CrOS/.test(ua)
          ? 'ChromeOS'
          : /Mac OS X|Macintosh/.test(ua)
            ? 'macOS'
            : /Linux/.test(ua)
              ? 'Linux'
              : '';
  return os ? `${browser} · ${os}` : browser;
}

/** A VAPID key as the server gives it (base64url) into the bytes the push manager takes. */
export function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const b64 = base64url
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .padEnd(Math.ceil(base64url.length / 4) * 4, '=');
  const raw = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

const sameBytes = (a: ArrayBuffer | null, b: Uint8Array) =>
  a !== null && a.byteLength === b.length && new Uint8Array(a).every((x, i) => x === b[i]);

const DEVICE_KEY = 'pushDevice';

/** The id the server gave this device's subscription, if it has one. */
export async function savedDeviceId(): Promise<number | undefined> {
  const v = (await localDb().settings.get(DEVICE_KEY))?.value;
  return typeof v === 'number' ? v : undefined;
}

const supported = () =>
  typeof Notification !== 'undefined' && 'serviceWorker' in navigator && typeof PushManager !== 'undefined';

/** The service worker once it is active; undefined when none comes (not installed, a dev build). */
function activeWorker(ms: number): Promise<ServiceWorkerRegistration | undefined> {
  return Promise.race([
    navigator.serviceWorker.ready,
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms)),
  ]);
}

/** Asks the browser, subscribes, and registers this device with the server. */
export async function enablePush(label = deviceLabel(navigator.userAgent)): Promise<PushDeviceJson> {
  if (!supported()) throw fail('unsupported');
  const permission =
    Notification.permission === 'granted' ? 'granted' : await Notification.requestPermission();
  if (permission !== 'granted') throw fail('denied');
  const { publicKey } = await api<{ publicKey: string | null }>('/api/v1/push/key');
  if (!publicKey) throw fail('noServerKey');
  const registration = await activeWorker(10_000);
  if (!registration) throw fail('noWorker');
  const key = keyBytes(publicKey);
  let subscription: PushSubscription;
  try {
    const existing = await registration.pushManager.getSubscription();
    // One made with another key (the server's VAPID key changed) is refused by the push service.
    if (existing && !sameBytes(existing.options.applicationServerKey, key)) await existing.unsubscribe();
    subscription =
      existing && sameBytes(existing.options.applicationServerKey, key)
        ? existing
        : await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  } catch (err) {
    throw new PushError(
      'subscribeFailed',
      msg('priceAlerts.push.subscribeFailed', { reason: err instanceof Error ? err.message : String(err) }),
    );
  }
  const { device } = await api<{ device: PushDeviceJson }>('/api/v1/push/devices', {
    body: { subscription: subscription.toJSON(), label: label.slice(0, 80) },
  });
  await localDb().settings.put({ key: DEVICE_KEY, value: device.id });
  return device;
}

/** Removes a device; this one's subscription ends too, so the browser stops holding it. */
export async function removePushDevice(id: number): Promise<void> {
  await api(`/api/v1/push/devices/${id}`, { method: 'DELETE' });
  if (id !== (await savedDeviceId())) return;
  await localDb().settings.delete(DEVICE_KEY);
  if (!supported()) return;
  const registration = await navigator.serviceWorker.getRegistration();
  await (await registration?.pushManager.getSubscription())?.unsubscribe();
}

// Signed out on this device: its notifications stop (a shared phone tells the next user nothing).
whenSigningOut(async () => {
  const id = await savedDeviceId();
  if (id !== undefined) await removePushDevice(id);
});
