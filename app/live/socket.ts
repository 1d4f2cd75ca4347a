import type { BackfillStatus, InstrumentInfo } from '../../sync-server/shared/market.ts';
import type { BracketJson, DayPnl, OrderJson, PositionJson } from '../../sync-server/shared/orders.ts';
import { onAlertChanged, onAlertFired, onAlertSummary } from '../alerts/notify.ts';
import { socketTicket } from '../api/client.ts';
import { keys } from '../api/keys.ts';
import { pushQueryData, queryClient } from '../api/queryClient.ts';
import { localDb } from '../data/db.ts';
import { price } from '../format.ts';
import { msg } from '../i18n/i18n.ts';
import { FeedClient } from '../market/feedClient.ts';
import { gapNotice } from '../market/gapNotice.ts';
import type { OrdersResponse, PositionsResponse } from '../orders/api.ts';
import { upsertBracket, upsertOrder } from '../orders/blotter.ts';
import { rejectText, sideText } from '../orders/words.ts';
import { useAdmin } from '../state/admin.ts';
import { useAgents } from '../state/agents.ts';
import { useAlerts } from '../state/alerts.ts';
import { useBackfill } from '../state/backfill.ts';
import { useBook } from '../state/book.ts';
import { useMarket } from '../state/market.ts';
import { useSession } from '../state/session.ts';

const SAVE_QUOTES_MS = 2_000;
const INSTRUMENTS = 'instruments';

// The app's one /ws connection: market data (trades, candles, daily figures, the connector's
// status) into the market store, the brokers' names into the agents store, the account's order
// and position pushes into the query cache and the alerts, and the quotes kept on this device
// for the next cold start.

let live: FeedClient | undefined;

/**
 * Connects the live socket again: it joins its account's order and position pushes when it
 * connects, so a user just given an account (their own, on the first run) needs a new one.
 */
export function reconnectLiveSocket(): void {
  live?.dropConnection();
}

let watchedBooks: string[] = [];

/** Watches these tickers' books (the price ladder's), on this socket and the next ones. */
export function watchBooks(tickers: readonly string[]): void {
  watchedBooks = [...tickers];
  live?.watchBooks(watchedBooks);
  for (const t of Object.keys(useBook.getState().books)) if (!tickers.includes(t)) useBook.getState().drop(t);
}

/** Keeps the live /ws connection open while signed in; returns a stop function. */
export function startLiveSocket(): () => void {
  const market = useMarket.getState();
  const url = new URL('/ws', location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const client = new FeedClient({
    url: url.toString(),
    // Signed out (no token): no connection; the socket is started again once there is one.
    credentials: async () =>
      useSession.getState().accessToken ? { ticket: await socketTicket() } : undefined,
    isOnline: () => navigator.onLine,
    channels: ['trades', 'candles'],
    batch: true,
    onHello: (hello) => {
      market.setInstruments(hello.instruments);
      void localDb()
        .settings.put({ key: INSTRUMENTS, value: hello.instruments })
        .catch(() => {});
    },
    onSnapshot: (quotes, reason, tickers) => {
      market.snapshot(quotes);
      const notice = gapNotice(reason, tickers);
      if (notice) useAlerts.getState().push('warn', notice);
    },
    onTrades: (ticker, trades) => market.queueTrades(ticker, trades),
    onBook: (frame) => useBook.getState().queue(frame),
    onCandles: (frame) => {
      const last = frame.candles.at(-1);
      if (last) market.queueCandle(frame.ticker, last);
    },
    onLink: (state, detail) => market.setLink(state, detail?.replaying),
    // An admin disabled this user, signed it out or changed its role (4401 with a reason).
    onClose: (code, reason) => useSession.getState().closedByServer(code, reason),
    onMessage: (msg) => {
      if (msg.type === 'connector') market.setConnector(msg.status);
      else if (msg.type === 'day') market.day(msg.ticker, msg.day);
      else if (msg.type === 'top') market.queueTop(msg.ticker, msg.top);
      else if (msg.type === 'previousClose') market.previousClose(msg.ticker, msg.close);
      else if (msg.type === 'agents') useAgents.getState().add(msg.agents);
      else if (msg.type === 'order') onOrder(msg.order);
      else if (msg.type === 'position') onPosition(msg.position, msg.day);
      else if (msg.type === 'bracket')
        pushQueryData<BracketJson[]>(keys.brackets(), (prev) => upsertBracket(prev ?? [], msg.bracket));
      else if (msg.type === 'deadLetters') useAdmin.getState().setOpenLetters(msg.open);
      else if (msg.type === 'backfill') onBackfill(msg);
      else if (msg.type === 'alert') onAlertFired(msg.firing, msg.notification);
      else if (msg.type === 'alertChanged') onAlertChanged();
      else if (msg.type === 'alertSummary') onAlertSummary(msg.count, msg.notification);
      else if (msg.type === 'error') console.warn(`server: ${msg.code}: ${msg.message}`);
    },
  });
  // Renewed tokens are handed to the live socket so it outlives the first token.
  const unsubscribe = useSession.subscribe((s, prev) => {
    if (s.accessToken && s.accessToken !== prev.accessToken)
      client.send({ type: 'auth', token: s.accessToken });
  });
  const offline = () => {
    market.setLink('offline');
    client.dropConnection();
  };
  const online = () => client.reconnectNow();
  window.addEventListener('offline', offline);
  window.addEventListener('online', online);
  const saver = setInterval(saveQuotes, SAVE_QUOTES_MS);
  client.watchBooks(watchedBooks);
  client.start();
  live = client;
  return () => {
    if (live === client) live = undefined;
    market.flushTrades();
    clearInterval(saver);
    void saveQuotes();
    window.removeEventListener('offline', offline);
    window.removeEventListener('online', online);
    unsubscribe();
    client.stop();
    // The next socket (another user, maybe not an admin) says its own.
    useAdmin.getState().setOpenLetters(undefined);
  };
}

/** Loads the instruments and quotes this device kept, for a cold start (offline too). */
export async function restoreMarket() {
  const [instruments, quotes] = await Promise.all([
    localDb().settings.get(INSTRUMENTS),
    localDb().quotes.toArray(),
  ]);
  const market = useMarket.getState();
  if (instruments && market.tickers.length === 0)
    market.setInstruments(instruments.value as InstrumentInfo[]);
  market.restore(quotes);
}

let savedAt = 0;
// Only quotes received since the last save are written: at most one row per ticker per 2 s.
async function saveQuotes() {
  const since = savedAt;
  savedAt = Date.now();
  const changed = Object.values(useMarket.getState().quotes).filter((q) => q.receivedAt > since);
  if (changed.length)
    await localDb()
      .quotes.bulkPut(changed.map(({ tick: _t, ...q }) => q))
      .catch(() => {});
}

function onOrder(order: OrderJson) {
  const before = queryClient
    .getQueryData<OrdersResponse>(keys.orders())
    ?.orders.find((o) => o.id === order.id);
  pushQueryData<OrdersResponse>(keys.orders(), (prev) => ({
    account: prev?.account ?? order.accountId,
    orders: upsertOrder(prev?.orders ?? [], order),
  }));
  const alert = useAlerts.getState().push;
  const side = sideText(order.side);
  if (order.filledQty > (before?.filledQty ?? 0)) {
    const digits = useMarket.getState().instruments[order.ticker]?.priceDecimals;
    alert(
      'info',
      msg('alert.filled', {
        side,
        ticker: order.ticker,
        filled: order.filledQty,
        qty: order.qty,
        price: price(order.avgFillPrice, digits),
      }),
    );
    void queryClient.invalidateQueries({ queryKey: keys.fills() });
    void queryClient.invalidateQueries({ queryKey: keys.positions() });
  } else if (order.state === 'rejected' && before?.state !== 'rejected') {
    const reason = order.rejectReason ? rejectText(order.rejectReason) : msg('alert.noReason');
    alert('error', msg('alert.rejected', { side, ticker: order.ticker, reason }));
  }
}

/** A position after a fill, with the account's day so far (realized and costs today). */
function onPosition(position: PositionJson, day: DayPnl) {
  pushQueryData<PositionsResponse>(keys.positions(), (prev) =>
    prev
      ? {
          ...prev,
          realizedTodayCents: day.realizedCents,
          costsTodayCents: day.costsCents,
          positions: [...prev.positions.filter((p) => p.ticker !== position.ticker), position],
        }
      : prev,
  );
}

/** A ticker's history backfill: its bar, and, once it ends, the chart's history asked again (now stored). */
function onBackfill(status: BackfillStatus) {
  const before = useBackfill.getState().byTicker[status.ticker];
  useBackfill.getState().apply(status);
  if (before?.state === 'filling' && status.state !== 'filling')
    void queryClient.invalidateQueries({ queryKey: keys.candlesOf(status.ticker) });
}
