import type { CreatedAlertJson, NewAlertJson } from '../../sync-server/shared/alerts.ts';
import { ApiError } from '../api/client.ts';
import { type HeldAlertRow, localDb } from '../data/db.ts';

// Alerts made while offline wait on this device, and go by themselves once it is back: an alert
// is not an order, nothing trades on it, so no one is asked to confirm. Each keeps the clientId
// it was made with; the server makes an alert once per clientId, so an answer lost on the way
// back (the alert made, the device never told) costs nothing when it is sent again.

export type NewHeldAlert = NewAlertJson & { readonly clientId: string };

/** Where held alerts are kept: the user's Dexie table in the app, a Map in tests. */
export interface HeldStore {
  list(): Promise<HeldAlertRow[]>;
  put(row: HeldAlertRow): Promise<void>;
  remove(clientId: string): Promise<void>;
}

export const dexieHeld: HeldStore = {
  list: () => localDb().heldAlerts.orderBy('heldAt').toArray(),
  put: async (row) => {
    await localDb().heldAlerts.put(row);
  },
  remove: (clientId) => localDb().heldAlerts.delete(clientId),
};

/**
 * Whether a failed send is about the way to the server (kept, sent again later) rather than
 * about the alert (dropped): no answer, the server's own trouble, a session to renew, a rate.
 */
export const worthRetrying = (err: unknown) =>
  !(err instanceof ApiError) ||
  err.status === 0 ||
  err.status >= 500 ||
  err.status === 401 ||
  err.status === 408 ||
  err.status === 429;

/** What became of a held alert on one flush. */
export type Flushed =
  | { readonly kind: 'made'; readonly row: HeldAlertRow; readonly answer: CreatedAlertJson }
  | { readonly kind: 'refused'; readonly row: HeldAlertRow; readonly error: ApiError }
  | { readonly kind: 'kept'; readonly row: HeldAlertRow };

/** A create: made now, or held until the device is back online. */
export type Created =
  | { readonly kind: 'made'; readonly answer: CreatedAlertJson }
  | { readonly kind: 'held'; readonly row: HeldAlertRow };

export interface HeldQueueDeps {
  readonly store: HeldStore;
  readonly send: (alert: NewHeldAlert) => Promise<CreatedAlertJson>;
  /** navigator.onLine in the app. */
  readonly online: () => boolean;
  /** The held list after each change, for the screen. */
  readonly changed: (rows: readonly HeldAlertRow[]) => void;
  readonly now?: () => number;
}

export function heldQueue({ store, send, online, changed, now = Date.now }: HeldQueueDeps) {
  const publish = async () => changed(await store.list());
  const hold = async (alert: NewHeldAlert) => {
    const row: HeldAlertRow = { clientId: alert.clientId, alert, heldAt: now() };
    await store.put(row);
    await publish();
    return row;
  };
  let flushing: Promise<Flushed[]> | undefined;

  async function sendAll(): Promise<Flushed[]> {
    const out: Flushed[] = [];
    for (const row of await store.list()) {
      try {
        const answer = await send(row.alert);
        await store.remove(row.clientId);
        out.push({ kind: 'made', row, answer });
      } catch (err) {
        if (worthRetrying(err)) {
          out.push({ kind: 'kept', row });
          // No answer for one: none will come for the next ones either.
          if (err instanceof ApiError && err.status === 0) break;
          continue;
        }
        await store.remove(row.clientId);
        out.push({ kind: 'refused', row, error: err as ApiError });
      }
    }
    await publish();
    return out;
  }

  return {
    load: publish,
    /** Sends an alert, or holds it when the device is offline or the server did not answer. */
    async create(alert: NewAlertJson): Promise<Created> {
      const withId: NewHeldAlert = { ...alert, clientId: alert.clientId ?? crypto.randomUUID() };
      if (!online()) return { kind: 'held', row: await hold(withId) };
      try {
        return { kind: 'made', answer: await send(withId) };
      } catch (err) {
        if (err instanceof ApiError && err.status === 0) return { kind: 'held', row: await hold(withId) };
        throw err;
      }
    },
    /** Sends every held alert, oldest first; a flush asked while one runs is that one. */
    flush(): Promise<Flushed[]> {
      if (!flushing) flushing = sendAll().finally(() => (flushing = undefined));
      return flushing;
    },
    /** Drops a held alert unsent. */
    async discard(clientId: string) {
      await store.remove(clientId);
      await publish();
    },
  };
}

export type HeldQueue = ReturnType<typeof heldQueue>;
