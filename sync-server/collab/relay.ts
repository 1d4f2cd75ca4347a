import * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';
import type { Logger } from '../log.ts';
import type { BusMessage, CollabBus } from './bus.ts';
import { encodeMessage, type YMessage } from './protocol.ts';
import { FROM_BUS, FROM_STORE, type Peer, type Room } from './rooms.ts';
import type { CollabStorage } from './storage.ts';

// The fan-out: a room's document and awareness changes go to its sockets and, when they are
// this process's own, to the other processes through the bus; what the bus brings is applied
// and relayed, never stored again.

export interface RelayDeps {
  readonly bus: CollabBus;
  readonly store: Pick<CollabStorage, 'load'>;
  readonly log: Logger;
  /** Re-checks who may stay in a document's room; with `spread`, on the other processes too. */
  readonly reauthorize: (docId: number, spread: boolean) => Promise<void>;
}

type AwarenessChange = { added: number[]; updated: number[]; removed: number[] };

export class Relay {
  constructor(private readonly deps: RelayDeps) {}

  /** From now on the room's changes reach its peers and the bus. */
  attach(room: Room): void {
    room.doc.on('update', (update: Uint8Array, origin: unknown) => this.relayUpdate(room, update, origin));
    room.awareness.on('update', (c: AwarenessChange, origin: unknown) =>
      this.relayAwareness(room, c, origin),
    );
  }

  send(peer: Peer, m: YMessage): void {
    this.sendFrame(peer, encodeMessage(m));
  }

  /** A message another process published for this room. */
  fromBus(room: Room, m: BusMessage): void {
    if (room.closed) return;
    try {
      if (m.kind === 'update') {
        room.bytes += m.payload.byteLength;
        Y.applyUpdate(room.doc, m.payload, FROM_BUS);
      } else if (m.kind === 'awareness') {
        awarenessProtocol.applyAwarenessUpdate(room.awareness, m.payload, FROM_BUS);
      } else {
        void this.deps.reauthorize(room.id, false);
      }
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message, docId: room.id }, 'bad message on the yjs bus');
    }
  }

  /**
   * After the bus was down (or a room's subscription was late), both ways: what other processes
   * stored meanwhile comes from the database (every update is stored before it is published),
   * and this room's whole state is published once, for processes that never lost the bus and
   * so never reload. Receivers apply it as any update: only what they lack reaches their
   * clients. Shares changed meanwhile are re-checked here and, through `acl`, everywhere.
   */
  async resync(room: Room): Promise<void> {
    if (room.closed) return;
    try {
      const state = await this.deps.store.load(room.id);
      if (room.closed) return;
      // Relayed to local clients as one update, like anything that came through the bus.
      Y.transact(
        room.doc,
        () => {
          for (const u of state.updates) Y.applyUpdate(room.doc, u, FROM_BUS);
        },
        FROM_BUS,
      );
      this.deps.bus.publish('update', room.id, Y.encodeStateAsUpdate(room.doc));
      await this.deps.reauthorize(room.id, true);
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message, docId: room.id }, 'yjs room resync failed');
    }
  }

  private relayUpdate(room: Room, update: Uint8Array, origin: unknown): void {
    const frame = encodeMessage({ type: 'sync-update', update });
    for (const peer of room.peers) if (peer !== origin) this.sendFrame(peer, frame);
    if (origin !== FROM_BUS && origin !== FROM_STORE) this.deps.bus.publish('update', room.id, update);
  }

  private relayAwareness(room: Room, { added, updated, removed }: AwarenessChange, origin: unknown): void {
    const changed = [...added, ...updated, ...removed];
    if (changed.length === 0) return;
    const local = [...room.peers].find((p) => p === origin);
    if (local) {
      for (const id of [...added, ...updated]) local.clientIds.add(id);
      for (const id of removed) local.clientIds.delete(id);
    }
    const update = awarenessProtocol.encodeAwarenessUpdate(room.awareness, changed);
    const frame = encodeMessage({ type: 'awareness', update, entries: [] });
    // The sender too, as y-websocket's server does: the stock client's 15 s awareness renewal
    // is then the traffic that keeps a lone editor's socket from its 30 s silence timeout.
    for (const peer of room.peers) this.sendFrame(peer, frame);
    if (origin !== FROM_BUS) this.deps.bus.publish('awareness', room.id, update);
  }

  private sendFrame(peer: Peer, frame: Uint8Array): void {
    if (peer.closed) return;
    try {
      peer.conn.send(frame, true);
    } catch (err) {
      // The socket went away under us; its close handler cleans up.
      this.deps.log.debug({ err: (err as Error).message }, 'yjs send on a closing socket');
    }
  }
}
