import WebSocket from 'ws';
import { decodeMessage, type YMessage } from '../collab/protocol.ts';

// For tests and benches: WebSocket clients under Node (the app's library on `ws`, a raw /yjs socket).

/** A `ws` WebSocket typed as the DOM one, for the app's client library under Node. */
export const NodeWebSocket = WebSocket as unknown as typeof globalThis.WebSocket;

/** A raw /yjs socket (no provider): what it received, decoded, and how it was closed. */
export function rawYjsSocket(port: number, room: string, token: string) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/yjs/${room}?token=${token}`, { perMessageDeflate: false });
  const received: YMessage[] = [];
  // A refused upgrade or a dropped connection closes with 1006 and no reason: the error says why.
  let error = '';
  ws.on('error', (err) => {
    error = err.message;
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: String(reason) || error })),
  );
  ws.on('message', (data) => {
    const r = decodeMessage(new Uint8Array(data as Buffer));
    if (r.ok) received.push(r.message);
  });
  return { ws, received, closed };
}
