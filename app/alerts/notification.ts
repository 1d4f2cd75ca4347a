import type { NotificationPayload } from '../../sync-server/shared/alerts.ts';

// What a notification says, read from bytes a push service delivered (untrusted until read
// here) and shaped for showNotification; shared by the service worker and the page.

const FALLBACK: NotificationPayload = {
  title: 'Tape',
  body: 'Um alerta disparou: abra o Tape para ver.',
  tag: 'alert',
  url: '/?screen=alerts',
};

const MAX_TEXT = 300;

/** A payload from its JSON text; a malformed one becomes a generic notice (never an exception). */
export function parseNotification(text: string | undefined): NotificationPayload {
  if (text === undefined) return FALLBACK;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return FALLBACK;
  }
  if (typeof v !== 'object' || v === null) return FALLBACK;
  const p = v as Record<string, unknown>;
  const str = (x: unknown) => (typeof x === 'string' ? x.slice(0, MAX_TEXT) : undefined);
  const title = str(p.title);
  const url = str(p.url);
  // Only a path of this origin: a push cannot send the trader elsewhere.
  if (!title || !url?.startsWith('/') || url.startsWith('//')) return FALLBACK;
  return { title, body: str(p.body) ?? '', tag: str(p.tag) ?? 'alert', url };
}

/** The options showNotification takes for a payload (a click opens `url`). */
export function notificationOptions(p: NotificationPayload): NotificationOptions {
  return {
    body: p.body,
    tag: p.tag,
    data: { url: p.url },
    icon: '/icons/icon-192.png',
    badge: '/icons/icon-192.png',
  };
}
