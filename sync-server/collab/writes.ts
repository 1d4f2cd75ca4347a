import * as Y from 'yjs';
import type { Logger } from '../log.ts';
import { YjsClose } from './protocol.ts';
import type { Relay } from './relay.ts';
import { FROM_BATCH, type Peer, type Room } from './rooms.ts';
import type { CollabStorage } from './storage.ts';
import { changesDoc } from './updates.ts';

// The write path. An editor's update is written to the database before it is applied and
// relayed (one INSERT per batch of whatever arrived while the previous write was in flight), so
// every update a client sees from the server is durable. The log is folded into the snapshot
// every `compactEvery` updates and when a room empties.

export interface WritesDeps {
  readonly store: Pick<CollabStorage, 'append' | 'compact'>;
  readonly log: Logger;
  readonly relay: Pick<Relay, 'send'>;
  /** Closes a peer's socket with a code and a reason. */
  readonly end: (peer: Peer, code: number, reason: string) => void;
  /** Largest stored state of one document (snapshot + log), checked before an update is accepted. */
  readonly maxDocBytes: number;
  readonly compactEvery: number;
}

export class Writes {
  constructor(private readonly deps: WritesDeps) {}

  /** A sync step 2 or update from a peer: refused, dropped as a no-op, or queued for storage. */
  write(peer: Peer, room: Room, update: Uint8Array): void {
    if (!changesDoc(room.doc, update)) return;
    if (peer.role === 'viewer') {
      this.deps.relay.send(peer, {
        type: 'auth-denied',
        reason: `read-only: you are a viewer of ${peer.roomName}; your change was not saved`,
      });
      return;
    }
    if (room.bytes + update.byteLength > this.deps.maxDocBytes) {
      // The log over-counts what compaction would merge away: measure before refusing.
      room.bytes = Y.encodeStateAsUpdate(room.doc).byteLength;
      if (room.bytes + update.byteLength > this.deps.maxDocBytes) {
        this.deps.end(
          peer,
          YjsClose.docTooLarge,
          `document full: over ${this.deps.maxDocBytes} bytes; remove items before adding more`,
        );
        return;
      }
    }
    room.bytes += update.byteLength;
    room.queue.push({ peer, update: update.slice() });
    if (!room.writing) room.writing = this.drain(room);
  }

  /** Before a room closes: its pending writes, then a compaction if its log grew. */
  async flush(room: Room): Promise<void> {
    await room.writing;
    if (room.sinceCompaction > 0) await this.compact(room);
    await room.compacting;
  }

  // Group commit: one INSERT for everything queued while the previous one was in flight.
  private async drain(room: Room): Promise<void> {
    while (room.queue.length > 0) {
      const batch = room.queue;
      room.queue = [];
      try {
        await this.deps.store.append(
          room.id,
          batch.map((p) => p.update),
        );
      } catch (err) {
        this.deps.log.error({ err: (err as Error).message, docId: room.id }, 'yjs updates not stored');
        room.bytes -= batch.reduce((n, p) => n + p.update.byteLength, 0);
        for (const p of new Set(batch.map((x) => x.peer)))
          this.deps.end(p, YjsClose.storeFailed, 'your change could not be saved; it is resent on reconnect');
        continue;
      }
      room.sinceCompaction += batch.length;
      // One transaction, so the batch goes out as one merged update per socket. Its senders get
      // their own change back too (as the y-websocket server always does): a no-op for them.
      const senders = new Set(batch.map((p) => p.peer));
      const origin = senders.size === 1 ? batch[0]?.peer : FROM_BATCH;
      Y.transact(
        room.doc,
        () => {
          for (const p of batch) {
            try {
              Y.applyUpdate(room.doc, p.update);
            } catch (err) {
              this.deps.log.error(
                { err: (err as Error).message, docId: room.id },
                'stored yjs update did not apply',
              );
            }
          }
        },
        origin,
      );
    }
    room.writing = undefined;
    if (room.sinceCompaction >= this.deps.compactEvery) this.compact(room);
  }

  private compact(room: Room): Promise<void> {
    room.compacting ??= (async () => {
      try {
        const before = room.sinceCompaction;
        const c = await this.deps.store.compact(room.id);
        room.sinceCompaction = Math.max(0, room.sinceCompaction - before);
        room.bytes = c.bytes + room.queue.reduce((n, p) => n + p.update.byteLength, 0);
      } catch (err) {
        this.deps.log.warn({ err: (err as Error).message, docId: room.id }, 'yjs compaction failed');
      } finally {
        room.compacting = undefined;
      }
    })();
    return room.compacting;
  }
}
