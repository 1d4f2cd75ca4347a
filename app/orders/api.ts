import { useMutation, useQuery } from '@tanstack/react-query';
import type {
  BracketJson,
  OrderEventRow,
  OrderJson,
  PositionJson,
  RiskConfig,
} from '../../sync-server/shared/orders.ts';
import { ApiError, api } from '../api/client.ts';
import { keys } from '../api/keys.ts';
import { queryClient } from '../api/queryClient.ts';
import { SENDING, upsertBracket, upsertOrder } from './blotter.ts';
import type { TicketDraft } from './ticket.ts';

export interface OrdersResponse {
  readonly account: string;
  readonly orders: OrderJson[];
}
export interface PositionsResponse {
  readonly account: string;
  readonly realizedTodayCents: number;
  /** Brokerage and B3 fees of today's fills. */
  readonly costsTodayCents: number;
  readonly positions: PositionJson[];
}
export interface FillJson {
  readonly id: number;
  readonly orderId: number;
  readonly ticker: string;
  readonly side: 'buy' | 'sell';
  readonly qty: number;
  readonly price: number;
  readonly at: string;
}
export interface NewOrder extends Omit<TicketDraft, 'price' | 'stopPrice'> {
  readonly clientOrderId: string;
  readonly price?: number;
  /** Only on a stop_limit. */
  readonly stopPrice?: number;
}

// A user without a trading account (a 403 `no_account`) sees empty lists, not an error.
const orEmpty = async <T>(f: () => Promise<T>, empty: T): Promise<T> => {
  try {
    return await f();
  } catch (err) {
    if (err instanceof ApiError && err.code === 'no_account') return empty;
    throw err;
  }
};

export const useOrders = () =>
  useQuery({
    queryKey: keys.orders(),
    queryFn: () =>
      orEmpty(() => api<OrdersResponse>('/api/v1/orders?limit=200'), { account: '', orders: [] }),
  });

export const useFills = () =>
  useQuery({
    queryKey: keys.fills(),
    queryFn: () =>
      orEmpty(async () => (await api<{ fills: FillJson[] }>('/api/v1/fills?limit=100')).fills, []),
  });

export const usePositions = () =>
  useQuery({
    queryKey: keys.positions(),
    queryFn: () =>
      orEmpty(() => api<PositionsResponse>('/api/v1/positions'), {
        account: '',
        realizedTodayCents: 0,
        costsTodayCents: 0,
        positions: [],
      }),
  });

/** The account's OCO brackets, newest first (kept current by the `bracket` push). */
export const useBrackets = () =>
  useQuery({
    queryKey: keys.brackets(),
    queryFn: () =>
      orEmpty(async () => (await api<{ brackets: BracketJson[] }>('/api/v1/brackets?limit=50')).brackets, []),
  });

export interface NewBracket {
  readonly clientId: string;
  readonly ticker: string;
  /** On the open position: how much of it. */
  readonly qty?: number;
  /** Or with a new order: its fills are what the legs protect (sent once it first fills). */
  readonly entry?: {
    readonly side: 'buy' | 'sell';
    readonly type: 'limit' | 'market';
    readonly qty: number;
    readonly price?: number;
  };
  readonly takeProfit: number;
  readonly stopPrice: number;
  readonly stopLimit: number;
}

/** A bracket on the open position (both legs sent at once) or with a new entry order. */
export async function sendBracket(b: NewBracket): Promise<BracketJson> {
  const res = await api<{ bracket: BracketJson }>('/api/v1/brackets', { body: b });
  queryClient.setQueryData<BracketJson[]>(keys.brackets(), (prev) => upsertBracket(prev ?? [], res.bracket));
  void queryClient.invalidateQueries({ queryKey: keys.orders() });
  return res.bracket;
}

export const useCancelBracket = () =>
  useMutation({
    mutationFn: (id: number) => api(`/api/v1/brackets/${id}/cancel`, { method: 'POST' }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: keys.brackets() }),
  });

/** The trader's own risk limits (read-only unless admin). */
export const useRiskConfig = (account: string | undefined) =>
  useQuery({
    queryKey: keys.riskConfig(account ?? 'own'),
    queryFn: () =>
      api<{ account: string; config: RiskConfig }>(
        `/api/v1/risk/config${account ? `?account=${encodeURIComponent(account)}` : ''}`,
      ),
  });

/** Sends an order: shown at once as `sending`, replaced by the server's answer, removed on failure. */
export function sendOrder(order: NewOrder): Promise<OrderJson> {
  const optimistic: OrderJson = {
    id: -Date.now(),
    accountId: '',
    clientOrderId: order.clientOrderId,
    ticker: order.ticker,
    side: order.side,
    type: order.type,
    qty: order.qty,
    price: order.price ?? null,
    stopPrice: order.stopPrice ?? null,
    triggeredAt: null,
    state: SENDING,
    filledQty: 0,
    avgFillPrice: null,
    localOrderId: null,
    rejectReason: null,
    createdAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
    external: false,
  };
  const setOrders = (f: (list: OrderJson[]) => OrderJson[]) =>
    queryClient.setQueryData<OrdersResponse>(keys.orders(), (prev) => ({
      account: prev?.account ?? '',
      orders: f(prev?.orders ?? []),
    }));
  setOrders((list) => upsertOrder(list, optimistic));
  return api<{ order: OrderJson }>('/api/v1/orders', { body: order }).then(
    (res) => {
      setOrders((list) => upsertOrder(list, res.order));
      return res.order;
    },
    (err) => {
      setOrders((list) => list.filter((o) => o !== optimistic && o.clientOrderId !== order.clientOrderId));
      // A risk rejection is an order too: the server kept it, the blotter shows it.
      void queryClient.invalidateQueries({ queryKey: keys.orders() });
      throw err;
    },
  );
}

/** One order's event trail (submitted, accepted, replace requested, fills, …), oldest first. */
export const useOrderEvents = (id: number) =>
  useQuery({
    queryKey: keys.orderEvents(id),
    queryFn: async () => (await api<{ events: OrderEventRow[] }>(`/api/v1/orders/${id}/events`)).events,
  });

/** Asks the broker to change a working order's price and/or quantity (risk-checked first). */
export const useModifyOrder = () =>
  useMutation({
    mutationFn: ({
      id,
      patch,
    }: {
      id: number;
      patch: { qty?: number; price?: number; stopPrice?: number };
    }) => api(`/api/v1/orders/${id}/modify`, { body: patch }),
    // The order list and this order's trail (its key starts with the list's).
    onSettled: () => queryClient.invalidateQueries({ queryKey: keys.orders() }),
  });

export const useCancelOrder = () =>
  useMutation({
    mutationFn: (id: number) => api(`/api/v1/orders/${id}/cancel`, { method: 'POST' }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: keys.orders() }),
  });

export const useCancelAll = () =>
  useMutation({
    mutationFn: () => api('/api/v1/orders/cancel-all', { method: 'POST' }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: keys.orders() }),
  });
