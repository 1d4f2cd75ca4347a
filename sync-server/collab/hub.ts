import * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';
import type { Principal } from '../auth/tokens.ts';
import type { Logger } from '../log.ts';
import type { DocKind, DocRelation } from '../store/collab.ts';
import { fullBucket, type Rate, type TokenBucket, takeToken } from '../tokenBucket.ts';
import { CloseCode } from '../ws.ts';
import type { BusMessage, CollabBus } from './bus.ts';
import { DEFAULT_MAX_MESSAGE_BYTES, decodeMessage, encodeMessage, type YMessage } from './protocol.ts';
import type { CollabStorage } from './storage.ts';
import { changesDoc } from './updates.ts';

// Rooms of the y-websocket protocol, one per shared document. An editor's update is written to
// the database before it is applied and relayed (one INSERT per batch of whatever arrived while
// the previous write was in flight), so every update a client sees from the server is durable.

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

export interface CollabLimits {
  /** Largest frame accepted; uWS drops frames past twice this without reading them. */
  readonly maxMessageBytes: number;
  /** Largest stored state of one document (snapshot + log), checked before an update is accepted. */
  readonly maxDocBytes: number;
  /** Token bucket per connection: sustained messages per second and the burst allowed. */
  readonly messagesPerSecond: number;
  readonly burst: number;
  /** Fold the update log into the snapshot after this many appended updates (and when a room empties). */
  readonly compactEvery: number;
}

export const DEFAULT_LIMITS: CollabLimits = {
  maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  maxDocBytes: 8 * 1024 * 1024,
  messagesPerSecond: 50,
  burst: 200,
  compactEvery: 500,
};

/** What the hub needs of a socket (WsSession has it). */
export interface CollabConnection {
  readonly principal: Principal;
  send(message: Uint8Array, binary: true): unknown;
  close(code: number, reason: string): void;
}

export type RoomRole = 'editor' | 'viewer';

const ROOM = /^(watchlist|layout|note):([1-9][0-9]{0,14})$/;

/** `watchlist:42` → the document's kind and id; undefined for anything else. */
export function parseRoomName(name: string): { kind: DocKind; id: number } | undefined {
  const m = ROOM.exec(name);
  return m ? { kind: m[1] as DocKind, id: Number(m[2]) } : undefined;
}
export const roomName = (kind: DocKind, id: number) => `${kind}:${id}`;

/**
 * The role a principal gets in a document, or undefined when they may not open it. Owners and
 * editor members edit; viewer members read; admins read every document; a user whose app role
 * is viewer only ever reads.
 */
export function roomRole(principal: Principal, relation: DocRelation | undefined): RoomRole | undefined {
  const role: RoomRole | undefined =
    relation === 'owner' || relation === 'editor'
      ? 'editor'
      : relation === 'viewer' || principal.role === 'admin'
        ? 'viewer'
        : undefined;
  return role && principal.role === 'viewer' ? 'viewer' : role;
}

interface Peer {
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

interface Pending {
  readonly peer: Peer;
  readonly update: Uint8Array;
}

interface Room {
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
const FROM_BUS = Symbol('bus');
/** Origin of a state reload from the database. */
const FROM_STORE = Symbol('store');
/** Origin of a stored batch from several local connections (relayed to all, published). */
const FROM_BATCH = Symbol('batch');

export interface HubDeps {
  readonly store: CollabStorage;
  readonly bus: CollabBus;
  readonly log: Logger;
  readonly limits?: CollabLimits;
  readonly now?: () => number;
}

export interface HubStats {
  readonly rooms: number;
  readonly connections: number;
  /** False while the bus to the other processes is down. */
  readonly busConnected: boolean;
  /** Stored updates that did not apply when a document was opened (each logged); should stay 0. */
  readonly unloadable: number;
}

export class CollabHub {
  private readonly rooms = new Map<number, Promise<Room>>();
  private readonly peers = new Map<CollabConnection, Peer>();
  private readonly limits: CollabLimits;
  private readonly rate: Rate;
  private readonly now: () => number;
  private closing = false;
  private unloadable = 0;

  constructor(private readonly deps: HubDeps) {
    this.limits = deps.limits ?? DEFAULT_LIMITS;
    this.rate = { perSecond: this.limits.messagesPerSecond, burst: this.limits.burst };
    this.now = deps.now ?? Date.now;
    deps.bus.onResubscribed((docId) => {
      for (const id of docId === undefined ? [...this.rooms.keys()] : [docId]) void this.resync(id);
    });
  }

  get stats(): HubStats {
    return {
      rooms: this.rooms.size,
      connections: this.peers.size,
      busConnected: this.deps.bus.connected,
      unloadable: this.unloadable,
    };
  }

  /** A socket opened on `/yjs/<room>`: checks the ACL, loads the room, then serves it. */
  connect(conn: CollabConnection, name: string): void {
    const peer: Peer = {
      conn,
      roomName: name,
      bucket: fullBucket(this.rate, this.now()),
      role: 'viewer',
      room: undefined,
      early: [],
      earlyBytes: 0,
      clientIds: new Set(),
      closed: false,
    };
    this.peers.set(conn, peer);
    this.join(peer).catch((err: Error) => {
      this.deps.log.error({ err: err.message, room: name }, 'yjs room failed to open');
      this.end(peer, YjsClose.storeFailed, 'the document could not be loaded; retrying');
    });
  }

  /** One frame from the socket; the bytes are only valid during this call. */
  receive(conn: CollabConnection, data: Uint8Array): void {
    const peer = this.peers.get(conn);
    if (!peer || peer.closed) return;
    const bucket = takeToken(peer.bucket, this.rate, this.now());
    if (!bucket) {
      this.end(
        peer,
        YjsClose.rateLimited,
        `rate limit: over ${this.limits.messagesPerSecond} messages/s; reconnect later`,
      );
      return;
    }
    peer.bucket = bucket;
    if (peer.early) {
      // A client sends little before the server's step 1 (its own step 1, awareness, edits):
      // what waits for the room to load is held to one message's worth.
      peer.earlyBytes += data.byteLength;
      if (data.byteLength > this.limits.maxMessageBytes) this.tooLarge(peer, data.byteLength);
      else if (peer.earlyBytes > this.limits.maxMessageBytes)
        this.end(peer, YjsClose.rateLimited, 'too much sent before the document loaded; reconnect');
      else peer.early.push(data.slice());
      return;
    }
    this.handle(peer, data);
  }

  /** The socket closed (by either side). */
  disconnect(conn: CollabConnection): void {
    const peer = this.peers.get(conn);
    if (!peer) return;
    this.peers.delete(conn);
    peer.closed = true;
    const room = peer.room;
    if (!room) return;
    room.peers.delete(peer);
    if (peer.clientIds.size > 0) {
      // Tells everyone (here and, through the bus, elsewhere) that this client's cursors left.
      awarenessProtocol.removeAwarenessStates(room.awareness, [...peer.clientIds], peer);
    }
    if (room.peers.size === 0) void this.evict(room);
  }

  /**
   * Re-checks who may stay in a document's room after a share, unshare or delete; with `spread`
   * the other processes do the same.
   */
  async reauthorize(docId: number, spread = true): Promise<void> {
    if (spread) this.deps.bus.publish('acl', docId, new Uint8Array());
    const room = await this.rooms.get(docId)?.catch(() => undefined);
    if (!room) return;
    await Promise.all(
      [...room.peers].map(async (peer) => {
        const access = await this.deps.store.access(docId, peer.conn.principal.userId);
        if (!access) return this.end(peer, YjsClose.notFound, 'this document was deleted');
        const role = roomRole(peer.conn.principal, access.relation);
        if (!role) return this.end(peer, YjsClose.forbidden, 'this document is no longer shared with you');
        peer.role = role;
      }),
    );
  }

  /** Waits for every pending write; called at shutdown after the sockets closed. */
  async close(): Promise<void> {
    this.closing = true;
    for (const peer of [...this.peers.values()]) this.end(peer, YjsClose.goingAway, 'server shutting down');
    const rooms = await Promise.all([...this.rooms.values()].map((r) => r.catch(() => undefined)));
    await Promise.all(rooms.map((r) => r && this.evict(r)));
  }

  private async join(peer: Peer): Promise<void> {
    const parsed = parseRoomName(peer.roomName);
    if (!parsed) {
      return this.end(
        peer,
        YjsClose.notFound,
        `unknown room "${peer.roomName.slice(0, 60)}": rooms are named <kind>:<id>, e.g. watchlist:42`,
      );
    }
    const access = await this.deps.store.access(parsed.id, peer.conn.principal.userId);
    if (peer.closed) return;
    if (!access || access.doc.kind !== parsed.kind)
      return this.end(peer, YjsClose.notFound, `no ${parsed.kind} ${parsed.id} (deleted, or never created)`);
    const role = roomRole(peer.conn.principal, access.relation);
    if (!role) return this.end(peer, YjsClose.forbidden, `${peer.roomName} is not shared with you`);
    peer.role = role;
    let room = await this.room(parsed.id);
    // Lost a race with the eviction of the last room object: load a fresh one.
    while (room.closed) room = await this.room(parsed.id);
    if (peer.closed) {
      if (room.peers.size === 0) void this.evict(room);
      return;
    }
    peer.room = room;
    room.peers.add(peer);
    // The server's side of the handshake: its state vector, and who is here.
    this.send(peer, { type: 'sync-step1', stateVector: Y.encodeStateVector(room.doc) });
    const states = [...room.awareness.getStates().keys()];
    if (states.length > 0) {
      this.send(peer, {
        type: 'awareness',
        update: awarenessProtocol.encodeAwarenessUpdate(room.awareness, states),
        entries: [],
      });
    }
    const early = peer.early ?? [];
    peer.early = undefined;
    for (const frame of early) if (!peer.closed) this.handle(peer, frame);
  }

  private room(id: number): Promise<Room> {
    let room = this.rooms.get(id);
    if (!room) {
      room = this.open(id);
      this.rooms.set(id, room);
      room.catch(() => this.rooms.delete(id));
    }
    return room;
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
    // Subscribe before loading: nothing another process relays in between is missed.
    const early: BusMessage[] = [];
    let loaded = false;
    await this.deps.bus.join(id, (m) => (loaded ? this.fromBus(room, m) : early.push(m)));
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
            this.unloadable++;
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
    for (const m of early) this.fromBus(room, m);
    doc.on('update', (update: Uint8Array, origin: unknown) => this.relayUpdate(room, update, origin));
    awareness.on('update', (c: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) =>
      this.relayAwareness(room, c, origin),
    );
    return room;
  }

  private handle(peer: Peer, data: Uint8Array): void {
    const room = peer.room as Room;
    const decoded = decodeMessage(data, this.limits.maxMessageBytes);
    if (!decoded.ok) {
      if (decoded.error.code === 'too_large') this.tooLarge(peer, data.byteLength);
      else this.end(peer, YjsClose.badMessage, `bad message: ${decoded.error.reason}`);
      return;
    }
    const m = decoded.message;
    try {
      switch (m.type) {
        case 'sync-step1':
          this.send(peer, { type: 'sync-step2', update: Y.encodeStateAsUpdate(room.doc, m.stateVector) });
          return;
        case 'sync-step2':
        case 'sync-update':
          this.write(peer, room, m.update);
          return;
        case 'awareness':
          awarenessProtocol.applyAwarenessUpdate(room.awareness, m.update, peer);
          return;
        case 'query-awareness':
          this.send(peer, {
            type: 'awareness',
            update: awarenessProtocol.encodeAwarenessUpdate(room.awareness, [
              ...room.awareness.getStates().keys(),
            ]),
            entries: [],
          });
          return;
        case 'auth-denied':
          this.end(peer, YjsClose.badMessage, 'bad message: auth messages go from server to client');
          return;
      }
    } catch (err) {
      // A well-framed message whose Yjs payload does not decode.
      this.end(peer, YjsClose.badMessage, `bad message: malformed ${m.type} (${(err as Error).message})`);
    }
  }

  private write(peer: Peer, room: Room, update: Uint8Array): void {
    if (!changesDoc(room.doc, update)) return;
    if (peer.role === 'viewer') {
      this.send(peer, {
        type: 'auth-denied',
        reason: `read-only: you are a viewer of ${peer.roomName}; your change was not saved`,
      });
      return;
    }
    if (room.bytes + update.byteLength > this.limits.maxDocBytes) {
      // The log over-counts what compaction would merge away: measure before refusing.
      room.bytes = Y.encodeStateAsUpdate(room.doc).byteLength;
      if (room.bytes + update.byteLength > this.limits.maxDocBytes) {
        this.end(
          peer,
          YjsClose.docTooLarge,
          `document full: over ${this.limits.maxDocBytes} bytes; remove items before adding more`,
        );
        return;
      }
    }
    room.bytes += update.byteLength;
    room.queue.push({ peer, update: update.slice() });
    if (!room.writing) room.writing = this.drain(room);
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
          this.end(p, YjsClose.storeFailed, 'your change could not be saved; it is resent on reconnect');
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
    if (room.sinceCompaction >= this.limits.compactEvery) this.compact(room);
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

  private relayUpdate(room: Room, update: Uint8Array, origin: unknown): void {
    const frame = encodeMessage({ type: 'sync-update', update });
    for (const peer of room.peers) if (peer !== origin) this.sendFrame(peer, frame);
    if (origin !== FROM_BUS && origin !== FROM_STORE) this.deps.bus.publish('update', room.id, update);
  }

  private relayAwareness(
    room: Room,
    { added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void {
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

  private fromBus(room: Room, m: BusMessage): void {
    if (room.closed) return;
    try {
      if (m.kind === 'update') {
        room.bytes += m.payload.byteLength;
        Y.applyUpdate(room.doc, m.payload, FROM_BUS);
      } else if (m.kind === 'awareness') {
        awarenessProtocol.applyAwarenessUpdate(room.awareness, m.payload, FROM_BUS);
      } else {
        void this.reauthorize(room.id, false);
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
  private async resync(id: number): Promise<void> {
    const room = await this.rooms.get(id)?.catch(() => undefined);
    if (!room || room.closed) return;
    try {
      const state = await this.deps.store.load(id);
      if (room.closed) return;
      // Relayed to local clients as one update, like anything that came through the bus.
      Y.transact(
        room.doc,
        () => {
          for (const u of state.updates) Y.applyUpdate(room.doc, u, FROM_BUS);
        },
        FROM_BUS,
      );
      this.deps.bus.publish('update', id, Y.encodeStateAsUpdate(room.doc));
      await this.reauthorize(id);
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message, docId: id }, 'yjs room resync failed');
    }
  }

  private async evict(room: Room): Promise<void> {
    await room.writing;
    if (room.sinceCompaction > 0) await this.compact(room);
    await room.compacting;
    // Someone joined while we were writing: the room lives on.
    if ((room.peers.size > 0 && !this.closing) || room.closed) return;
    room.closed = true;
    this.rooms.delete(room.id);
    await this.deps.bus.leave(room.id).catch(() => {});
    room.awareness.destroy();
    room.doc.destroy();
  }

  private tooLarge(peer: Peer, size: number): void {
    this.end(
      peer,
      CloseCode.tooBig,
      `message of ${size} bytes is over the ${this.limits.maxMessageBytes}-byte limit`,
    );
  }

  private send(peer: Peer, m: YMessage): void {
    this.sendFrame(peer, encodeMessage(m));
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

  private end(peer: Peer, code: number, reason: string): void {
    if (peer.closed) return;
    peer.closed = true;
    this.deps.log.debug(
      { user: peer.conn.principal.username, room: peer.roomName, code, reason },
      'yjs close',
    );
    try {
      // WebSocket close reasons are at most 123 bytes.
      peer.conn.close(code, truncateUtf8(reason, 123));
    } catch {
      // already closed
    }
    this.disconnect(peer.conn);
  }
}

function truncateUtf8(s: string, max: number): string {
  const bytes = new TextEncoder().encode(s);
  if (bytes.length <= max) return s;
  return new TextDecoder().decode(bytes.subarray(0, max)).replace(/\uFFFD$/, '');
}
