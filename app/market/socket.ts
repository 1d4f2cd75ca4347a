import { useMarket } from '../state/market.ts';
import { useSession } from '../state/session.ts';
import { FeedClient } from './feedClient.ts';

/** Keeps one /ws connection open while signed in; returns a stop function. */
export function startMarketSocket(): () => void {
  const market = useMarket.getState();
  const url = new URL('/ws', location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const client = new FeedClient({
    url: url.toString(),
    token: () => useSession.getState().accessToken,
    renewToken: () => useSession.getState().refresh(),
    isOnline: () => navigator.onLine,
    onHello: (hello) => market.setInstruments(hello.instruments),
    onSnapshot: (quotes) => market.snapshot(quotes),
    onTrades: (ticker, trades) => useMarket.getState().trades(ticker, trades),
    onLink: (state, detail) => market.setLink(state, detail?.replaying),
    onMessage: (msg) => {
      if (msg.type === 'connector') market.setConnector(msg.status);
      else if (msg.type === 'error') console.warn(`server: ${msg.code}: ${msg.message}`);
    },
  });
  // Renewed tokens are handed to the live socket so it outlives the first token.
  const unsubscribe = useSession.subscribe((s, prev) => {
    if (s.accessToken && s.accessToken !== prev.accessToken)
      client.send({ type: 'auth', token: s.accessToken });
  });
  const offline = () => market.setLink('offline');
  window.addEventListener('offline', offline);
  client.start();
  return () => {
    window.removeEventListener('offline', offline);
    unsubscribe();
    client.stop();
  };
}
