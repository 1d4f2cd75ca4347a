import { decodeFrame, type ServerMessage } from '../../sync-server/market/protocol.ts';
import { useMarket } from '../state/market.ts';
import { useSession } from '../state/session.ts';

const MAX_BACKOFF_MS = 10_000;

/** Keeps one /ws connection open while signed in; returns a stop function. */
export function startMarketSocket(): () => void {
  let ws: WebSocket | undefined;
  let stopped = false;
  let attempt = 0;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const market = useMarket.getState();

  const connect = () => {
    const token = useSession.getState().accessToken;
    if (!token) return;
    const url = new URL('/ws', location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('token', token);
    const socket = new WebSocket(url);
    ws = socket;
    socket.binaryType = 'arraybuffer';
    socket.onmessage = (ev) => {
      if (typeof ev.data !== 'string') {
        const frame = decodeFrame(ev.data as ArrayBuffer);
        useMarket.getState().trades(frame.ticker, frame.trades);
        return;
      }
      const msg = JSON.parse(ev.data) as ServerMessage;
      switch (msg.type) {
        case 'hello':
          attempt = 0;
          market.setLink('live');
          market.setTickers(msg.tickers);
          socket.send(JSON.stringify({ type: 'sub', channel: 'trades', tickers: msg.tickers }));
          break;
        case 'snapshot':
          market.snapshot(msg.quotes);
          break;
        case 'connector':
          market.setConnector(msg.status);
          break;
        case 'error':
          console.warn(`server: ${msg.code}: ${msg.message}`);
          break;
        default:
          break;
      }
    };
    socket.onclose = (ev) => {
      if (stopped) return;
      market.setLink(navigator.onLine ? 'reconnecting' : 'offline');
      const renew = ev.code === 4401 ? useSession.getState().refresh() : Promise.resolve(true);
      const delay = Math.min(MAX_BACKOFF_MS, 250 * 2 ** attempt++) * (0.5 + Math.random() / 2);
      retry = setTimeout(() => void renew.then(connect), delay);
    };
  };

  // Renewed tokens are handed to the live socket so it outlives the first token.
  const unsubscribe = useSession.subscribe((s, prev) => {
    if (s.accessToken && s.accessToken !== prev.accessToken && ws?.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({ type: 'auth', token: s.accessToken }));
    }
  });
  connect();
  return () => {
    stopped = true;
    clearTimeout(retry);
    unsubscribe();
    ws?.close(1000, 'signed out');
  };
}
