import { randomBytes } from 'node:crypto';

// Relays what one process's clients sent to the other processes serving the same room.
// The process that received an update from its client persisted it before publishing it:
// receivers only apply and relay, never persist again.

export const BUS_KINDS = ['update', 'awareness', 'acl'] as const;
export type BusKind = (typeof BUS_KINDS)[number];

export interface BusMessage {
  readonly kind: BusKind;
  readonly docId: number;
  /** A Yjs update, an awareness update, or nothing (`acl`: re-check who may stay). */
  readonly payload: Uint8Array;
  /** The publishing process: each process skips its own messages. */
  readonly origin: string;
}

export interface CollabBus {
  /** This process's id, stamped as `origin` on what it publishes. */
  readonly processId: string;
  /** Starts delivering the room's messages from other processes; resolves once subscribed. */
  join(docId: number, onMessage: (m: BusMessage) => void): Promise<void>;
  leave(docId: number): Promise<void>;
  /**
   * Fire and forget. Pub/sub is at-most-once and nothing is queued while the bus is down: what
   * was missed either way is made good by the resync below (see docs/architecture.md).
   */
  publish(kind: BusKind, docId: number, payload: Uint8Array): void;
  /**
   * Called when the bus is back after a loss (messages may have been missed both ways), with no
   * argument; or with a document id when that room's subscription, asked for while the bus was
   * down, has just taken effect.
   */
  onResubscribed(fn: (docId?: number) => void): void;
  /** False while the bus cannot reach the other processes (each then serves only its own clients). */
  readonly connected: boolean;
  close(): Promise<void>;
}

export const newProcessId = () => randomBytes(8).toString('hex');

// Binary frame on the wire: kind (1 byte) · origin (8 bytes) · payload. The doc id is the channel.
export function encodeBusFrame(kind: BusKind, origin: string, payload: Uint8Array): Buffer {
  const head = Buffer.alloc(9);
  head[0] = BUS_KINDS.indexOf(kind);
  Buffer.from(origin, 'hex').copy(head, 1);
  return Buffer.concat([head, payload]);
}

export function decodeBusFrame(docId: number, frame: Uint8Array): BusMessage | undefined {
  const kind = BUS_KINDS[frame[0] ?? 255];
  if (frame.length < 9 || kind === undefined) return undefined;
  const b = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  return { kind, docId, origin: b.subarray(1, 9).toString('hex'), payload: b.subarray(9) };
}

/**
 * The embedded default: hubs in one process share it (one hub per process in production; tests
 * put two hubs on one LocalNetwork to model two processes without Redis).
 */
export class LocalNetwork {
  private readonly rooms = new Map<number, Map<string, (m: BusMessage) => void>>();

  bus(): CollabBus {
    const processId = newProcessId();
    const rooms = this.rooms;
    return {
      processId,
      connected: true,
      async join(docId, onMessage) {
        const subs = rooms.get(docId) ?? new Map<string, (m: BusMessage) => void>();
        rooms.set(docId, subs);
        subs.set(processId, onMessage);
      },
      async leave(docId) {
        const subs = rooms.get(docId);
        subs?.delete(processId);
        if (subs?.size === 0) rooms.delete(docId);
      },
      publish(kind, docId, payload) {
        const copy = payload.slice();
        // Asynchronous like a real bus: a publisher never re-enters itself.
        queueMicrotask(() => {
          for (const [id, deliver] of rooms.get(docId) ?? [])
            if (id !== processId) deliver({ kind, docId, payload: copy, origin: processId });
        });
      },
      onResubscribed() {},
      async close() {
        for (const docId of [...rooms.keys()]) await this.leave(docId);
      },
    };
  }
}
