import * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';
import type { Logger } from '../log.ts';
import { fullBucket, type Rate, takeToken } from '../tokenBucket.ts';
import { CloseCode } from '../ws.ts';
import { admit, parseRoomName, recheck, unknownRoom } from './access.ts';
import type { CollabBus } from './bus.ts';
import { DEFAULT_MAX_MESSAGE_BYTES, decodeMessage, YjsClose } from './protocol.ts';
import { Relay } from './relay.ts';
import { type CollabConnection, type Peer, type Room, Rooms } from './rooms.ts';
import type { CollabStorage } from './storage.ts';
import { Writes } from './writes.ts';

// The rooms of the y-websocket protocol, one per shared document, put together: each socket's
// frames are rate-limited, decoded and handled here; who may be in a room is access.ts, a room's
// life rooms.ts, the write path writes.ts, the fan-out to sockets and the bus relay.ts.

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
  private readonly peers = new Map<CollabConnection, Peer>();
  private readonly limits: CollabLimits;
  private readonly rate: Rate;
  private readonly now: () => number;
  private readonly relay: Relay;
  private readonly writes: Writes;
  private readonly rooms: Rooms;

  constructor(private readonly deps: HubDeps) {
    this.limits = deps.limits ?? DEFAULT_LIMITS;
    this.rate = { perSecond: this.limits.messagesPerSecond, burst: this.limits.burst };
    this.now = deps.now ?? Date.now;
    const { store, bus, log } = deps;
    this.relay = new Relay({ bus, store, log, reauthorize: (id, spread) => this.reauthorize(id, spread) });
    this.writes = new Writes({
      store,
      log,
      relay: this.relay,
      end: (peer, code, reason) => this.end(peer, code, reason),
      maxDocBytes: this.limits.maxDocBytes,
      compactEvery: this.limits.compactEvery,
    });
    this.rooms = new Rooms({
      store,
      bus,
      log,
      hooks: {
        fromBus: (room, m) => this.relay.fromBus(room, m),
        loaded: (room) => this.relay.attach(room),
        flush: (room) => this.writes.flush(room),
      },
    });
    bus.onResubscribed((docId) => {
      for (const id of docId === undefined ? this.rooms.ids() : [docId]) void this.resync(id);
    });
  }

  get stats(): HubStats {
    return {
      rooms: this.rooms.size,
      connections: this.peers.size,
      busConnected: this.deps.bus.connected,
      unloadable: this.rooms.unloadable,
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
    if (room.peers.size === 0) void this.rooms.evict(room);
  }

  /**
   * Re-checks who may stay in a document's room after a share, unshare or delete; with `spread`
   * the other processes do the same.
   */
  async reauthorize(docId: number, spread = true): Promise<void> {
    if (spread) this.deps.bus.publish('acl', docId, new Uint8Array());
    const room = await this.rooms.find(docId);
    if (!room) return;
    await Promise.all(
      [...room.peers].map(async (peer) => {
        const admission = await recheck(this.deps.store, peer.conn.principal, docId);
        if ('code' in admission) return this.end(peer, admission.code, admission.reason);
        peer.role = admission.role;
      }),
    );
  }

  /** Waits for every pending write; called at shutdown after the sockets closed. */
  async close(): Promise<void> {
    for (const peer of [...this.peers.values()]) this.end(peer, YjsClose.goingAway, 'server shutting down');
    await this.rooms.close();
  }

  private async join(peer: Peer): Promise<void> {
    const parsed = parseRoomName(peer.roomName);
    if (!parsed) {
      const refusal = unknownRoom(peer.roomName);
      return this.end(peer, refusal.code, refusal.reason);
    }
    const admission = await admit(this.deps.store, peer.conn.principal, parsed.kind, parsed.id);
    if (peer.closed) return;
    if ('code' in admission) return this.end(peer, admission.code, admission.reason);
    peer.role = admission.role;
    let room = await this.rooms.get(parsed.id);
    // Lost a race with the eviction of the last room object: load a fresh one.
    while (room.closed) room = await this.rooms.get(parsed.id);
    if (peer.closed) {
      if (room.peers.size === 0) void this.rooms.evict(room);
      return;
    }
    peer.room = room;
    room.peers.add(peer);
    // The server's side of the handshake: its state vector, and who is here.
    this.relay.send(peer, { type: 'sync-step1', stateVector: Y.encodeStateVector(room.doc) });
    const states = [...room.awareness.getStates().keys()];
    if (states.length > 0) {
      this.relay.send(peer, {
        type: 'awareness',
        update: awarenessProtocol.encodeAwarenessUpdate(room.awareness, states),
        entries: [],
      });
    }
    const early = peer.early ?? [];
    peer.early = undefined;
    for (const frame of early) if (!peer.closed) this.handle(peer, frame);
  }

  private async resync(id: number): Promise<void> {
    const room = await this.rooms.find(id);
    if (room) await this.relay.resync(room);
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
          this.relay.send(peer, {
            type: 'sync-step2',
            update: Y.encodeStateAsUpdate(room.doc, m.stateVector),
          });
          return;
        case 'sync-step2':
        case 'sync-update':
          this.writes.write(peer, room, m.update);
          return;
        case 'awareness':
          awarenessProtocol.applyAwarenessUpdate(room.awareness, m.update, peer);
          return;
        case 'query-awareness':
          this.relay.send(peer, {
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

  private tooLarge(peer: Peer, size: number): void {
    this.end(
      peer,
      CloseCode.tooBig,
      `message of ${size} bytes is over the ${this.limits.maxMessageBytes}-byte limit`,
    );
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
