import { registerSW } from 'virtual:pwa-register';
import { create } from 'zustand';
import { openLink } from './alerts/links.ts';

// The service worker: the app shell works offline; a new version is offered, never forced.

interface PwaState {
  updateReady: boolean;
  offlineReady: boolean;
  applyUpdate(): void;
}

let update: ((reload?: boolean) => Promise<void>) | undefined;

export const usePwa = create<PwaState>(() => ({
  updateReady: false,
  offlineReady: false,
  applyUpdate: () => {
    // The plugin reloads only for an update this page found itself; one found elsewhere (another
    // tab, a periodic check) would leave the old code running under the new worker.
    navigator.serviceWorker.addEventListener('controllerchange', () => location.reload(), { once: true });
    void update?.(true);
  },
}));

export function startServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  // A notification clicked while Tape was open: the worker says where to go.
  navigator.serviceWorker.addEventListener(
    'message',
    (e: MessageEvent<{ type?: unknown; url?: unknown }>) => {
      if (e.data?.type === 'open' && typeof e.data.url === 'string') openLink(e.data.url);
    },
  );
  update = registerSW({
    immediate: true,
    onNeedRefresh: () => usePwa.setState({ updateReady: true }),
    onOfflineReady: () => usePwa.setState({ offlineReady: true }),
  });
}
