import { ExpirationPlugin } from 'workbox-expiration';
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { NetworkFirst } from 'workbox-strategies';
import { notificationOptions, parseNotification } from './alerts/notification.ts';

// The service worker: the app shell precached (it works offline), candle history fresh when
// online and the last answer when not, and the alerts' notifications: shown from a Web Push
// while Tape is closed, and opened on the ticker or the order when clicked. A new version waits
// for the trader to accept it (pwa.ts), never mid-order.

declare const self: ServiceWorkerGlobalScope & {
  __WB_MANIFEST: Array<{ url: string; revision: string | null }>;
};

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();
registerRoute(
  new NavigationRoute(createHandlerBoundToURL('/index.html'), {
    denylist: [/^\/api\//, /^\/ws/, /^\/yjs\//, /^\/(healthz|readyz|metrics)$/],
  }),
);
registerRoute(
  ({ url }) => url.pathname === '/api/v1/market/candles',
  new NetworkFirst({
    cacheName: 'candles',
    networkTimeoutSeconds: 3,
    plugins: [new ExpirationPlugin({ maxEntries: 200, maxAgeSeconds: 7 * 86_400 })],
  }),
);

self.addEventListener('message', (event) => {
  // The update the trader accepted (vite-plugin-pwa's registerSW sends it).
  if ((event.data as { type?: unknown } | null)?.type === 'SKIP_WAITING') void self.skipWaiting();
});

self.addEventListener('push', (event) => {
  // A push the server sent while no Tape window had its socket open: always shown (a push
  // subscription is userVisibleOnly). One that cannot be read still says something arrived.
  const payload = parseNotification(event.data?.text());
  event.waitUntil(self.registration.showNotification(payload.title, notificationOptions(payload)));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = new URL(
    typeof event.notification.data?.url === 'string' ? event.notification.data.url : '/',
    self.location.origin,
  );
  event.waitUntil(
    (async () => {
      // An open Tape window is brought to the front and told where to go; else one is opened there.
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const open = windows.find((w) => new URL(w.url).origin === url.origin);
      if (open) {
        open.postMessage({ type: 'open', url: url.pathname + url.search });
        await open.focus();
      } else await self.clients.openWindow(url.pathname + url.search);
    })(),
  );
});
