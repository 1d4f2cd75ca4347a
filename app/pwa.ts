import { registerSW } from 'virtual:pwa-register';
import { create } from 'zustand';

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
  update = registerSW({
    immediate: true,
    onNeedRefresh: () => usePwa.setState({ updateReady: true }),
    onOfflineReady: () => usePwa.setState({ offlineReady: true }),
  });
}
