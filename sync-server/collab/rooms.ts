import * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';
import type { Principal } from '../auth/tokens.ts';
import type { Logger } from '../log.ts';
import type { TokenBucket } from '../tokenBucket.ts';
import type { RoomRole } from './access.ts';
import type { BusMessage, CollabBus } from './bus.ts';
import type { CollabStorage } from './storage.ts';

// The rooms' lifecycle: a room per open document, opened on its first join (subscribed to the
// bus, then loaded from storage into a fresh Y.Doc), closed when it empties, after its pending
// writes and a compaction.

/** What the hub needs of a socket (WsSession has it). */
export interface CollabConnection {
  readonly principal: Principal;
  send(message: Uint8Array, binary: true): unknown;
  close(code: number, reason: string): void;
}

/** A connection to a room: joining until `room` is set. */
export interface Peer {
  readonly conn: CollabConnection;
  readonly roomName: string;
  bucket: TokenBucket;
  role: RoomRole;
  room: Room | undefined;
  /** Frames received before the room was loaded, handled in order once it is. */
  early: Uint8Array[] | undefined;
  earlyBytes: number;
  /** Awareness client ids this connection announced: removed for everyone when it leaves. */
  readonly clientIds: Set<number>;
  closed: boolean;
}

/** An update accepted from a peer, waiting for its batch to be stored. */
export interface Pending {
  readonly peer: Peer;
  readonly update: Uint8Array;
}

export interface Room {
  readonly id: number;
  readonly doc: Y.Doc;
  readonly awareness: awarenessProtocol.Awareness;
  readonly peers: Set<Peer>;
  /** Stored bytes (snapshot + log since), an upper bound of the document's size. */
  bytes: number;
  sinceCompaction: number;
  queue: Pending[];
  writing: Promise<void> | undefined;
  compacting: Promise<void> | undefined;
  closed: boolean;
}

/** Origin of changes that came from another process through the bus (relayed, not persisted). */
export const FROM_BUS = Symbol('bus');
/** Origin of a state reload from the database. */
export const FROM_STORE = Symbol('store');
/** Origin of a stored batch from several local connections (relayed to all, published). */
export const FROM_BATCH = Symbol('batch');

/** What the relay and the write path do at the turns of a room's life. */
export interface RoomHooks {
  /** A message from another process, for a room subscribed to (held until it has loaded). */
  fromBus(room: Room, m: BusMessage): void;
  /** The room has loaded: its changes from now on go to its peers and the bus. */
  loaded(room: Room): void;
  /** The room is emptying: its pending writes, then a compaction. */
  flush(room: Room): Promise<void>;
}

export interface RoomsDeps {
  readonly store: Pick<CollabStorage, 'load'>;
  readonly bus: CollabBus;
  readonly log: Logger;
  readonly hooks: RoomHooks;
}

export class Rooms {
  private readonly rooms = new Map<number, Promise<Room>>();
  private closing = false;
  private unloadableUpdates = 0;

  constructor(private readonly deps: RoomsDeps) {}

  /** Rooms open or opening. */
  get size(): number {
    return this.rooms.size;
  }

  /** Stored updates that did not apply when a document was opened (each logged). */
  get unloadable(): number {
    return this.unloadableUpdates;
  }

  ids(): number[] {
    return [...this.rooms.keys()];
  }

  /** The document's room, opened if it is not (a closed one means: ask again). */
  get(id: number): Promise<Room> {
    let room = this.rooms.get(id);
    if (!room) {
      room = this.open(id);
      this.rooms.set(id, room);
      room.catch(() => this.rooms.delete(id));
    }
    return room;
  }

  /** The document's room if it is open or opening; undefined when it is not or failed to open. */
  find(id: number): Promise<Room | undefined> | undefined {
    return this.rooms.get(id)?.catch(() => undefined);
  }

  /** Closes the room once its writes are done, unless someone joined meanwhile. */
  async evict(room: Room): Promise<void> {
    await this.deps.hooks.flush(room);
    // Someone joined while we were writing: the room lives on.
    if ((room.peers.size > 0 && !this.closing) || room.closed) return;
    room.closed = true;
    this.rooms.delete(room.id);
    await this.deps.bus.leave(room.id).catch(() => {});
    room.awareness.destroy();
    room.doc.destroy();
  }

  /** At shutdown, once the peers are gone: writes what is pending and closes every room. */
  async close(): Promise<void> {
    this.closing = true;
    const rooms = await Promise.all([...this.rooms.values()].map((r) => r.catch(() => undefined)));
    await Promise.all(rooms.map((r) => r && this.evict(r)));
  }

  private async open(id: number): Promise<Room> {
    const doc = new Y.Doc({ gc: true });
    const awareness = new awarenessProtocol.Awareness(doc);
    // The server has no presence of its own.
    awareness.setLocalState(null);
    const room: Room = {
      id,
      doc,
      awareness,
      peers: new Set(),
      bytes: 0,
      sinceCompaction: 0,
      queue: [],
      writing: undefined,
      compacting: undefined,
      closed: false,
    };
    const { hooks } = this.deps;
    // Subscribe before loading: nothing another process relays in between is missed.
    const early: BusMessage[] = [];
    let loaded = false;
    await this.deps.bus.join(id, (m) => (loaded ? hooks.fromBus(room, m) : early.push(m)));
    try {
      const state = await this.deps.store.load(id);
      room.bytes = state.bytes;
      room.sinceCompaction = state.updates.length;
      Y.transact(doc, () => {
        for (const [i, u] of state.updates.entries()) {
          try {
            Y.applyUpdate(doc, u, FROM_STORE);
          } catch (err) {
            // The write path refuses what would not apply; should one get stored anyway, the
            // document still opens with everything else rather than never again.
            this.unloadableUpdates++;
            this.deps.log.error(
              { err: (err as Error).message, docId: id, update: i, bytes: u.byteLength },
              'stored yjs update does not apply; the document opens without it',
            );
          }
        }
      });
    } catch (err) {
      await this.deps.bus.leave(id).catch(() => {});
      awareness.destroy();
      doc.destroy();
      throw err;
    }
    loaded = true;
    for (const m of early) hooks.fromBus(room, m);
    hooks.loaded(room);
    return room;
  }
}
