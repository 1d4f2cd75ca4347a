import type { WsEndpoint, WsSession } from '../ws.ts';
import type { CollabHub } from './hub.ts';
import { YjsClose } from './protocol.ts';

// `/yjs/<room>`: the y-websocket protocol for the stock WebsocketProvider. Its credential comes
// in the query (the provider's `params` option): a one-time `?ticket=` from the app, `?token=`
// from tools; checked at upgrade by the http layer (AuthService.authenticateSocket).

const PREFIX = '/yjs/';
/** A slow reader past this is closed by uWS; it resyncs from the server on reconnect. */
const MAX_BACKPRESSURE_BYTES = 8 * 1024 * 1024;

export function roomOf(url: string): string {
  const raw = url.startsWith(PREFIX) ? url.slice(PREFIX.length) : '';
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

export function yjsEndpoint(hub: CollabHub, maxMessageBytes: number): WsEndpoint {
  const expiry = new Map<WsSession, NodeJS.Timeout>();
  return {
    path: `${PREFIX}:room`,
    // uWS drops a frame past its ceiling without a close frame (the client sees 1006); up to
    // twice the limit the hub reads it and closes with 1009 and a reason.
    maxPayloadBytes: maxMessageBytes * 2,
    maxBackpressureBytes: MAX_BACKPRESSURE_BYTES,
    params: (url) => ({ room: roomOf(url) }),
    open(session) {
      // The socket lives no longer than the access token behind it: reconnect with a new ticket.
      const timer = setTimeout(
        () => session.close(YjsClose.unauthorized, 'access token expired: reconnect with a fresh token'),
        Math.max(0, Math.min(session.expiresAt - Date.now(), 2 ** 31 - 1)),
      );
      timer.unref();
      expiry.set(session, timer);
      hub.connect(session, session.params.room ?? '');
      return undefined;
    },
    message(session, data, isBinary) {
      if (!isBinary) {
        session.close(YjsClose.badMessage, 'bad message: y-websocket frames are binary');
        return;
      }
      hub.receive(session, new Uint8Array(data));
    },
    close(session) {
      clearTimeout(expiry.get(session));
      expiry.delete(session);
      hub.disconnect(session);
    },
  };
}
