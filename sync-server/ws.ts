import type { Principal } from './auth/tokens.ts';

// Framework-free WebSocket shapes; uws.ts adapts them to uWebSockets.js.

export interface WsSession {
  readonly principal: Principal;
  /** When the token that opened the socket expires, ms since the epoch. */
  readonly expiresAt: number;
  /** Named segments of the endpoint path, e.g. the room of `/yjs/:room`. */
  readonly params: Readonly<Record<string, string>>;
  /** Returns uWS's send status: 1 sent, 0 buffered (backpressure), 2 dropped. */
  send(message: string | Uint8Array, binary?: boolean): number;
  subscribe(topic: string): boolean;
  unsubscribe(topic: string): boolean;
  bufferedAmount(): number;
  /** Batches several sends into one syscall. */
  cork(fn: () => void): void;
  close(code: number, reason: string): void;
}

export interface WsEndpoint<S = unknown> {
  readonly path: string;
  readonly maxPayloadBytes: number;
  readonly maxBackpressureBytes: number;
  params(url: string): Record<string, string>;
  open(session: WsSession): S | undefined;
  message(session: WsSession, data: ArrayBuffer, isBinary: boolean): void;
  drain?(session: WsSession): void;
  close(session: WsSession, code: number): void;
}

/** Close codes Tape uses on its sockets (4000-4999 are free for applications). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  policy: 1008,
  tooBig: 1009,
  internalError: 1011,
  unauthorized: 4401,
  forbidden: 4403,
  badMessage: 4400,
  slowConsumer: 4408,
  rateLimited: 4429,
} as const;
