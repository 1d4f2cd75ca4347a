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
  applyUpdate: () => void update?.(true),
}));

export function startServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  update = registerSW({
    immediate: true,
    onNeedRefresh: () => usePwa.setState({ updateReady: true }),
    onOfflineReady: () => usePwa.setState({ offlineReady: true }),
  });
}
