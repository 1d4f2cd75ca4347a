import { create } from 'zustand';
import { ApiError } from '../api/client.ts';
import { localDb, type OutboxEntry } from '../data/db.ts';
import { price } from '../format.ts';
import { msg, type Text } from '../i18n/i18n.ts';
import { useAlerts } from '../state/alerts.ts';
import { type NewBracket, type NewOrder, sendBracket, sendOrder } from './api.ts';
import { type FlattenRequest, flattenWhat, sendFlatten } from './flatten.ts';
import { orderWhat } from './words.ts';

// Orders entered offline wait here, on this device, until the trader confirms or discards each
// one with the current price in view. Nothing in this file sends on its own.

const lifetime = (ttlMinutes: number) => {
  const now = Date.now();
  return { createdAt: now, expiresAt: now + ttlMinutes * 60_000 };
};

/** An entry in words: the order, the flatten or the bracket it will send. */
export function outboxWhat(e: OutboxEntry): Text {
  if (e.kind === 'flatten') return flattenWhat(e);
  if (e.kind === 'bracket') {
    const prices = { tp: price(e.takeProfit), stop: price(e.stopPrice), limit: price(e.stopLimit) };
    return e.entry
      ? msg('outbox.bracketEntry', { order: orderWhat({ ...e.entry, ticker: e.ticker }), ...prices })
      : msg('outbox.bracket', { qty: e.qty ?? 0, ticker: e.ticker, ...prices });
  }
  return orderWhat(e);
}

export const isExpired = (e: OutboxEntry, now: number) => now >= e.expiresAt;

interface OutboxState {
  entries: OutboxEntry[];
  load(): Promise<void>;
  add(order: NewOrder, ttlMinutes: number): Promise<void>;
  addFlatten(request: FlattenRequest, ttlMinutes: number): Promise<void>;
  addBracket(bracket: NewBracket, ttlMinutes: number): Promise<void>;
  discard(id: string): Promise<void>;
  /** Sends one entry with its own client order id, so a resend can never make a second order. */
  confirm(id: string): Promise<void>;
}

export const useOutbox = create<OutboxState>((set, get) => {
  const remove = async (id: string) => {
    await localDb().outbox.delete(id);
    set((s) => ({ entries: s.entries.filter((e) => e.id !== id) }));
  };
  const put = async (entry: OutboxEntry) => {
    await localDb().outbox.put(entry);
    set((s) => ({ entries: [...s.entries.filter((e) => e.id !== entry.id), entry] }));
  };
  const alert = useAlerts.getState().push;
  return {
    entries: [],
    async load() {
      set({ entries: await localDb().outbox.orderBy('createdAt').toArray() });
    },
    async add(order, ttlMinutes) {
      const { clientOrderId, ...rest } = order;
      await put({ ...rest, id: clientOrderId, ...lifetime(ttlMinutes) });
    },
    async addFlatten({ clientOrderId, ...rest }, ttlMinutes) {
      await put({ kind: 'flatten', ...rest, id: clientOrderId, ...lifetime(ttlMinutes) });
    },
    async addBracket({ clientId, ...rest }, ttlMinutes) {
      await put({ kind: 'bracket', ...rest, id: clientId, ...lifetime(ttlMinutes) });
    },
    discard: remove,
    async confirm(id) {
      const entry = get().entries.find((e) => e.id === id);
      if (!entry) return;
      const what = outboxWhat(entry);
      if (isExpired(entry, Date.now())) return alert('warn', msg('outbox.alertExpired', { what }));
      try {
        if (entry.kind === 'flatten') {
          const { id: clientOrderId, createdAt: _c, expiresAt: _e, kind: _k, ...request } = entry;
          await sendFlatten({ ...request, clientOrderId });
        } else if (entry.kind === 'bracket') {
          const { id: clientId, createdAt: _c, expiresAt: _e, kind: _k, ...bracket } = entry;
          await sendBracket({ ...bracket, clientId });
        } else {
          const { id: clientOrderId, createdAt: _c, expiresAt: _e, kind: _k, ...order } = entry;
          await sendOrder({ ...order, clientOrderId });
        }
        await remove(id);
        alert('info', msg('outbox.alertSent', { what }));
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        const reason = err instanceof ApiError ? { code: err.code, message } : message;
        if (err instanceof ApiError && err.code === 'offline')
          return alert('warn', msg('outbox.alertOffline', { what, reason }));
        // The server answered (a risk rejection, a duplicate): the blotter shows its verdict.
        await remove(id);
        alert('error', msg('outbox.alertRefused', { what, reason }));
      }
    },
  };
});
