import { useInfiniteQuery, useMutation, useQuery } from '@tanstack/react-query';
import { create } from 'zustand';
import type {
  AlertFiringJson,
  AlertJson,
  AlertSettingsJson,
  CreatedAlertJson,
  NewAlertJson,
  PushDeviceJson,
} from '../../sync-server/shared/alerts.ts';
import { api } from '../api/client.ts';
import { keys } from '../api/keys.ts';
import { queryClient } from '../api/queryClient.ts';
import type { HeldAlertRow } from '../data/db.ts';
import { price } from '../format.ts';
import { type Message, msg } from '../i18n/i18n.ts';
import { useAlerts } from '../state/alerts.ts';
import { isLive, useMarket } from '../state/market.ts';
import type { AlertPatch } from './draft.ts';
import { type Created, dexieHeld, heldQueue, type NewHeldAlert } from './held.ts';
import { removePushDevice, savedDeviceId } from './push.ts';
import { conditionText } from './words.ts';

// The user's alerts over REST (TanStack Query, keys from api/keys.ts), and the queue of those made
// offline. The server's answer is the truth: a change sets the list from it, then asks again.

export interface HistoryPage {
  readonly firings: AlertFiringJson[];
  /** The id to ask `before` for the next (older) page; null at the end. */
  readonly next: number | null;
}

const HISTORY_PAGE = 50;

const digitsOf = (ticker: string | null | undefined) =>
  (ticker && useMarket.getState().instruments[ticker]?.priceDecimals) || 2;

/** An alert's condition in words, in its ticker's decimals. */
export const alertWhat = (a: Parameters<typeof conditionText>[0]) => conditionText(a, digitsOf(a.ticker));

/** The server's answer in words; with the level it snapped to the tick grid when it did. */
export function answerText({ alert, snappedFrom }: CreatedAlertJson, verb: 'created' | 'saved'): Message {
  const what = alertWhat(alert);
  if (snappedFrom === undefined || alert.threshold === null)
    return msg(verb === 'created' ? 'priceAlerts.created' : 'priceAlerts.saved', { what });
  const inst = alert.ticker ? useMarket.getState().instruments[alert.ticker] : undefined;
  const digits = digitsOf(alert.ticker);
  return msg(verb === 'created' ? 'priceAlerts.createdSnapped' : 'priceAlerts.savedSnapped', {
    what,
    level: price(alert.threshold, digits),
    tick: price(inst?.tickSize ?? 0.01, digits),
  });
}

/** What a create came to: made, or held on this device until it is back online. */
export const createdText = (c: Created): Message =>
  c.kind === 'held'
    ? msg('priceAlerts.createdHeld', { what: alertWhat(c.row.alert) })
    : answerText(c.answer, 'created');

export const useAlertList = () =>
  useQuery({
    queryKey: keys.alerts(),
    queryFn: async () => (await api<{ alerts: AlertJson[] }>('/api/v1/alerts')).alerts,
  });

/** Firings, newest first, a page at a time. */
export const useAlertHistory = () =>
  useInfiniteQuery({
    queryKey: keys.alertHistory(),
    // null, not undefined, for the first page: the persisted pages' params go through JSON.
    initialPageParam: null as number | null,
    queryFn: ({ pageParam }) =>
      api<HistoryPage>(
        `/api/v1/alerts/history?limit=${HISTORY_PAGE}${pageParam === null ? '' : `&before=${pageParam}`}`,
      ),
    getNextPageParam: (last) => last.next,
  });

export const useAlertSettings = () =>
  useQuery({
    queryKey: keys.alertSettings(),
    queryFn: () => api<AlertSettingsJson>('/api/v1/alerts/settings'),
  });

/** The server's VAPID public key; null when it has no Web Push. */
export const usePushKey = () =>
  useQuery({
    queryKey: keys.pushKey(),
    queryFn: async () => (await api<{ publicKey: string | null }>('/api/v1/push/key')).publicKey,
  });

/** The user's push devices, and which of them is this one. */
export const usePushDevices = () =>
  useQuery({
    queryKey: keys.pushDevices(),
    queryFn: async () => ({
      devices: (await api<{ devices: PushDeviceJson[] }>('/api/v1/push/devices')).devices,
      current: (await savedDeviceId()) ?? null,
    }),
  });

const setAlert = (a: AlertJson) =>
  queryClient.setQueryData<AlertJson[]>(keys.alerts(), (list = []) =>
    list.some((x) => x.id === a.id) ? list.map((x) => (x.id === a.id ? a : x)) : [a, ...list],
  );
// Not awaited by a mutation: offline, the refetch waits for the network, and a create held on
// the device would stay pending until then.
const refreshList = () => void queryClient.invalidateQueries({ queryKey: keys.alerts() });
/** After this device subscribed, or one was removed: the device list asked again. */
export const refreshPushDevices = () => void queryClient.invalidateQueries({ queryKey: keys.pushDevices() });

const postAlert = async (alert: NewHeldAlert) => {
  const answer = await api<CreatedAlertJson>('/api/v1/alerts', { body: alert });
  setAlert(answer.alert);
  return answer;
};

/** The alerts held on this device until it is back online, oldest first. */
export const useHeldAlerts = create<{ held: readonly HeldAlertRow[] }>(() => ({ held: [] }));

const held = heldQueue({
  store: dexieHeld,
  send: postAlert,
  online: () => navigator.onLine,
  changed: (rows) => useHeldAlerts.setState({ held: rows }),
});

/** Makes an alert now, or holds it on this device when offline (same clientId when sent later). */
export const createAlert = (alert: NewAlertJson) => held.create(alert);
export const discardHeldAlert = (clientId: string) => held.discard(clientId);

/** Sends the held alerts, and tells the trader what became of each. */
async function flushHeld() {
  const push = useAlerts.getState().push;
  const results = await held.flush();
  for (const r of results) {
    if (r.kind === 'made') push('info', msg('priceAlerts.heldMade', { what: alertWhat(r.answer.alert) }));
    else if (r.kind === 'refused')
      push(
        'error',
        msg('priceAlerts.heldRefused', {
          what: alertWhat(r.row.alert),
          reason: { code: r.error.code, message: r.error.message },
        }),
      );
  }
  if (results.some((r) => r.kind === 'made')) refreshList();
}

/**
 * Loads the held alerts and sends them: now, when the browser is back online, and when the
 * socket is live again (the server back while the browser never went offline). Returns the stop.
 */
export function startHeldAlerts(): () => void {
  void held.load().then(flushHeld);
  const onOnline = () => void flushHeld();
  window.addEventListener('online', onOnline);
  const stop = useMarket.subscribe((s, prev) => {
    if (isLive(s.link) && !isLive(prev.link) && useHeldAlerts.getState().held.length) void flushHeld();
  });
  return () => {
    window.removeEventListener('online', onOnline);
    stop();
  };
}

export const useCreateAlert = () =>
  useMutation({
    mutationFn: createAlert,
    onSettled: refreshList,
  });

export const useUpdateAlert = () =>
  useMutation({
    mutationFn: async ({ id, patch }: { id: number; patch: AlertPatch }) => {
      const answer = await api<CreatedAlertJson>(`/api/v1/alerts/${id}`, { method: 'PATCH', body: patch });
      setAlert(answer.alert);
      return answer;
    },
    onSettled: refreshList,
  });

export const useDeleteAlert = () =>
  useMutation({
    mutationFn: (id: number) => api(`/api/v1/alerts/${id}`, { method: 'DELETE' }),
    onSuccess: (_, id) =>
      queryClient.setQueryData<AlertJson[]>(keys.alerts(), (list) => list?.filter((a) => a.id !== id)),
    onSettled: refreshList,
  });

export const useSaveAlertSettings = () =>
  useMutation({
    mutationFn: (s: AlertSettingsJson) =>
      api<AlertSettingsJson>('/api/v1/alerts/settings', { method: 'PUT', body: s }),
    onSuccess: (s) => queryClient.setQueryData(keys.alertSettings(), s),
    onSettled: () => void queryClient.invalidateQueries({ queryKey: keys.alertSettings() }),
  });

export const useRemovePushDevice = () =>
  useMutation({
    mutationFn: removePushDevice,
    onSettled: refreshPushDevices,
  });
