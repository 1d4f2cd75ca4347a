import type { AlertFiringJson, NotificationPayload } from '../../sync-server/shared/alerts.ts';
import { keys } from '../api/keys.ts';
import { queryClient } from '../api/queryClient.ts';
import { price } from '../format.ts';
import { msg, type Text } from '../i18n/i18n.ts';
import { useAlerts } from '../state/alerts.ts';
import { useMarket } from '../state/market.ts';
import { useSettings } from '../state/settings.ts';
import { notificationOptions } from './notification.ts';

// A firing of one of the user's alerts, as the socket tells it: an in-app alert (with a sound,
// unless turned off or held by quiet hours), and a notification through the service worker when
// Tape is in the background. Web Push is the server's, for when no Tape socket is open.

/** In the trader's language, from the firing's facts (the server's notification is in Portuguese). */
export function firingText(f: AlertFiringJson): Text {
  const digits = f.ticker ? useMarket.getState().instruments[f.ticker]?.priceDecimals : undefined;
  const ticker = f.ticker ?? '';
  const at = price(f.price, digits);
  switch (f.kind) {
    case 'price_above':
      return msg('notify.priceAbove', { ticker, level: price(f.threshold, digits), price: at });
    case 'price_below':
      return msg('notify.priceBelow', { ticker, level: price(f.threshold, digits), price: at });
    case 'change_above':
    case 'change_below':
      return msg('notify.change', {
        ticker,
        change: percent(f.value),
        level: percent(f.threshold),
        price: at,
      });
    case 'volume_above':
      return msg('notify.volume', { ticker, level: (f.threshold ?? 0).toLocaleString('pt-BR'), price: at });
    case 'order':
      return msg('notify.order', { ticker });
  }
}

const percent = (v: number | null) =>
  `${(v ?? 0) > 0 ? '+' : ''}${(v ?? 0).toLocaleString('pt-BR', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} %`;

/** The socket's `alert`: told in the app, sounded, and notified when Tape is not in front. */
export function onAlertFired(firing: AlertFiringJson, notification: NotificationPayload | null) {
  // A fill or a rejection is told already by the order's own push; an order alert adds the notification.
  if (firing.kind !== 'order') useAlerts.getState().push('info', firingText(firing));
  void queryClient.invalidateQueries({ queryKey: keys.alertsAll() });
  if (!notification) return;
  if (firing.kind !== 'order' && useSettings.getState().alertSound) beep();
  notifyInBackground(notification);
}

/** The firings past the user's rate in the last minute, told once. */
export function onAlertSummary(count: number, notification: NotificationPayload) {
  useAlerts.getState().push('info', msg('notify.summary', { count }));
  notifyInBackground(notification);
}

/** The socket's `alertChanged` (an alert expired): the list is read again. */
export function onAlertChanged() {
  void queryClient.invalidateQueries({ queryKey: keys.alertsAll() });
}

/** A notification through the service worker, when Tape is in the background and allowed to. */
export function notifyInBackground(n: NotificationPayload) {
  if (document.visibilityState === 'visible') return;
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  if (!('serviceWorker' in navigator)) return;
  void navigator.serviceWorker.ready
    .then((r) => r.showNotification(n.title, notificationOptions(n)))
    .catch(() => {});
}

let audio: AudioContext | undefined;

/** A short two-tone chime: no sound file to fetch or cache. */
function beep() {
  try {
    audio ??= new AudioContext();
    const now = audio.currentTime;
    for (const [i, hz] of [880, 1320].entries()) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = hz;
      gain.gain.setValueAtTime(0.0001, now + i * 0.12);
      gain.gain.exponentialRampToValueAtTime(0.2, now + i * 0.12 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.12 + 0.11);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + i * 0.12);
      osc.stop(now + i * 0.12 + 0.12);
    }
  } catch {
    // No audio on this device (or not yet allowed by a gesture): the alert is still shown.
  }
}
