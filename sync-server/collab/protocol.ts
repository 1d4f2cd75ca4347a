import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { CloseCode } from '../ws.ts';

// The y-websocket wire protocol (y-protocols), decoded strictly: every frame is one message,
// lib0 varints throughout, nothing left over. Decoding returns a typed message or a typed
// failure with a reason a person can read; it never throws.

/** Outer message kinds, as numbered by y-websocket. */
export const MessageType = { sync: 0, awareness: 1, auth: 2, queryAwareness: 3 } as const;
/** Sub-kinds of a sync message (y-protocols/sync). */
export const SyncType = { step1: 0, step2: 1, update: 2 } as const;
/** Sub-kinds of an auth message (y-protocols/auth); permission-denied is the only one. */
export const AuthType = { permissionDenied: 0 } as const;

/** Close codes of /yjs sockets. 44xx are final for the stock client; 1011 and 1013 make it retry. */
export const YjsClose = {
  goingAway: CloseCode.goingAway,
  badMessage: CloseCode.badMessage,
  unauthorized: CloseCode.unauthorized,
  forbidden: CloseCode.forbidden,
  notFound: 4404,
  docTooLarge: 4413,
  /** Transient: the stock client reconnects with backoff and resyncs, so nothing is lost. */
  rateLimited: 1013,
  /** Transient: a write failed; the client's change is resent by the resync after reconnecting. */
  storeFailed: 1011,
} as const;

/** 1 MiB: a watchlist edit is a few hundred bytes; a first sync of a large note stays well under. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

export interface AwarenessEntry {
  readonly clientId: number;
  readonly clock: number;
  /** The state as JSON text; `null` means the client left. */
  readonly state: string;
}

export type YMessage =
  | { readonly type: 'sync-step1'; readonly stateVector: Uint8Array }
  | { readonly type: 'sync-step2'; readonly update: Uint8Array }
  | { readonly type: 'sync-update'; readonly update: Uint8Array }
  | {
      readonly type: 'awareness';
      /** The encoded awareness update, as relayed to other clients. */
      readonly update: Uint8Array;
      readonly entries: readonly AwarenessEntry[];
    }
  | { readonly type: 'auth-denied'; readonly reason: string }
  | { readonly type: 'query-awareness' };

/** Why a frame was refused; stable codes for logs and metrics. */
export const DecodeFailure = {
  empty: 'empty',
  tooLarge: 'too_large',
  truncated: 'truncated',
  unknownType: 'unknown_type',
  unknownSyncType: 'unknown_sync_type',
  unknownAuthType: 'unknown_auth_type',
  trailingBytes: 'trailing_bytes',
  badVarint: 'bad_varint',
  badUtf8: 'bad_utf8',
  badAwarenessState: 'bad_awareness_state',
} as const;
export type DecodeFailureCode = (typeof DecodeFailure)[keyof typeof DecodeFailure];

export interface DecodeError {
  readonly code: DecodeFailureCode;
  readonly reason: string;
}

export type DecodeResult =
  | { readonly ok: true; readonly message: YMessage }
  | { readonly ok: false; readonly error: DecodeError };

const utf8 = new TextDecoder('utf-8', { fatal: true });

class Malformed extends Error {
  constructor(
    readonly code: DecodeFailureCode,
    readonly reason: string,
  ) {
    super(reason);
  }
}

// lib0 throws plain Errors on a short buffer or an over-long varint: turn them into reasons.
function read<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof Malformed) throw err;
    const text = err instanceof Error ? err.message : String(err);
    if (/range/i.test(text)) throw new Malformed(DecodeFailure.badVarint, `${what}: integer out of range`);
    throw new Malformed(DecodeFailure.truncated, `${what}: message ends too early`);
  }
}

const readUint = (d: decoding.Decoder, what: string) => read(what, () => decoding.readVarUint(d));
// subarray, not a copy: callers that keep the bytes beyond the frame's life copy them.
const readBytes = (d: decoding.Decoder, what: string) => read(what, () => decoding.readVarUint8Array(d));
function readText(d: decoding.Decoder, what: string): string {
  const bytes = readBytes(d, what);
  try {
    return utf8.decode(bytes);
  } catch {
    throw new Malformed(DecodeFailure.badUtf8, `${what}: not valid UTF-8`);
  }
}

/** Decodes the payload of an awareness message: a count, then (client id, clock, JSON state). */
export function decodeAwarenessUpdate(update: Uint8Array): AwarenessEntry[] {
  const d = decoding.createDecoder(update);
  const count = readUint(d, 'awareness count');
  // Each entry takes at least 3 bytes: a larger count cannot be honest.
  if (count > update.length)
    throw new Malformed(DecodeFailure.truncated, 'awareness: more entries announced than bytes');
  const entries: AwarenessEntry[] = [];
  for (let i = 0; i < count; i++) {
    const clientId = readUint(d, 'awareness client id');
    const clock = readUint(d, 'awareness clock');
    const state = readText(d, 'awareness state');
    try {
      JSON.parse(state);
    } catch {
      throw new Malformed(DecodeFailure.badAwarenessState, 'awareness state is not valid JSON');
    }
    entries.push({ clientId, clock, state });
  }
  if (decoding.hasContent(d))
    throw new Malformed(DecodeFailure.trailingBytes, 'awareness: bytes left after the last entry');
  return entries;
}

export function encodeAwarenessUpdate(entries: readonly AwarenessEntry[]): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, entries.length);
  for (const x of entries) {
    encoding.writeVarUint(e, x.clientId);
    encoding.writeVarUint(e, x.clock);
    encoding.writeVarString(e, x.state);
  }
  return encoding.toUint8Array(e);
}

function decodeOrThrow(d: decoding.Decoder): YMessage {
  const type = readUint(d, 'message type');
  switch (type) {
    case MessageType.sync: {
      const sub = readUint(d, 'sync type');
      switch (sub) {
        case SyncType.step1:
          return { type: 'sync-step1', stateVector: readBytes(d, 'sync step 1 state vector') };
        case SyncType.step2:
          return { type: 'sync-step2', update: readBytes(d, 'sync step 2 update') };
        case SyncType.update:
          return { type: 'sync-update', update: readBytes(d, 'sync update') };
        default:
          throw new Malformed(DecodeFailure.unknownSyncType, `unknown sync message type ${sub}`);
      }
    }
    case MessageType.awareness: {
      const update = readBytes(d, 'awareness update');
      return { type: 'awareness', update, entries: decodeAwarenessUpdate(update) };
    }
    case MessageType.auth: {
      const sub = readUint(d, 'auth type');
      if (sub !== AuthType.permissionDenied)
        throw new Malformed(DecodeFailure.unknownAuthType, `unknown auth message type ${sub}`);
      return { type: 'auth-denied', reason: readText(d, 'auth reason') };
    }
    case MessageType.queryAwareness:
      return { type: 'query-awareness' };
    default:
      throw new Malformed(DecodeFailure.unknownType, `unknown message type ${type}`);
  }
}

/** Decodes one frame. Never throws: a bad frame comes back as `{ ok: false, error }`. */
export function decodeMessage(bytes: Uint8Array, maxBytes = DEFAULT_MAX_MESSAGE_BYTES): DecodeResult {
  if (bytes.length === 0) return fail(DecodeFailure.empty, 'empty message');
  if (bytes.length > maxBytes)
    return fail(
      DecodeFailure.tooLarge,
      `message of ${bytes.length} bytes is over the ${maxBytes}-byte limit`,
    );
  try {
    const d = decoding.createDecoder(bytes);
    const message = decodeOrThrow(d);
    if (decoding.hasContent(d))
      return fail(DecodeFailure.trailingBytes, `${bytes.length - d.pos} bytes left after a ${message.type}`);
    return { ok: true, message };
  } catch (err) {
    if (err instanceof Malformed) return fail(err.code, err.reason);
    return fail(DecodeFailure.truncated, `undecodable message: ${String(err)}`);
  }
}

const fail = (code: DecodeFailureCode, reason: string): DecodeResult => ({
  ok: false,
  error: { code, reason },
});

const SYNC_TYPE_OF = {
  'sync-step1': SyncType.step1,
  'sync-step2': SyncType.step2,
  'sync-update': SyncType.update,
};

export function encodeMessage(m: YMessage): Uint8Array {
  const e = encoding.createEncoder();
  switch (m.type) {
    case 'sync-step1':
    case 'sync-step2':
    case 'sync-update':
      encoding.writeVarUint(e, MessageType.sync);
      encoding.writeVarUint(e, SYNC_TYPE_OF[m.type]);
      encoding.writeVarUint8Array(e, m.type === 'sync-step1' ? m.stateVector : m.update);
      break;
    case 'awareness':
      encoding.writeVarUint(e, MessageType.awareness);
      encoding.writeVarUint8Array(e, m.update);
      break;
    case 'auth-denied':
      encoding.writeVarUint(e, MessageType.auth);
      encoding.writeVarUint(e, AuthType.permissionDenied);
      encoding.writeVarString(e, m.reason);
      break;
    case 'query-awareness':
      encoding.writeVarUint(e, MessageType.queryAwareness);
      break;
  }
  return encoding.toUint8Array(e);
}
