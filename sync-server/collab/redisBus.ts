import { createClient } from 'redis';
import type { Logger } from '../log.ts';
import { type BusMessage, type CollabBus, decodeBusFrame, encodeBusFrame, newProcessId } from './bus.ts';

// The production bus: Redis pub/sub, one channel per document. Pub/sub is at-most-once, and
// while Redis is unreachable each process serves only its own clients: nothing is queued for
// later (a long outage would grow the queue without bound). When both connections are back the
// hub is told, and resyncs every open room (relay.ts `resync`): what others stored comes from the
// database, and its own state is published once for the processes that stayed connected.
//
// A refused or reset connection is seen at once and node-redis reconnects by itself. A silent
// one (a partition that drops packets, a half-dead NAT entry) is not: its commands just wait,
// for as long as TCP takes to give up (many minutes). So the process publishes a heartbeat to
// itself through Redis; when no echo has come back for `deadAfterMs`, both connections are
// thrown away and a new pair is opened, the same path as any other outage.

const channelOf = (prefix: string, docId: number) => `${prefix}${docId}`;

export interface RedisBusOptions {
  /** Channel prefix; tests use their own. */
  readonly prefix?: string;
  /** A heartbeat goes through Redis this often… */
  readonly heartbeatMs?: number;
  /** …and when none has come back for this long, the connections are taken for dead. */
  readonly deadAfterMs?: number;
}

type Client = ReturnType<typeof createClient>;

export async function redisBus(url: string, log: Logger, opts: RedisBusOptions = {}): Promise<CollabBus> {
  const prefix = opts.prefix ?? 'tape:yjs:';
  const heartbeatMs = opts.heartbeatMs ?? 1_000;
  const deadAfterMs = opts.deadAfterMs ?? 5_000;
  const processId = newProcessId();
  const heartbeatChannel = `${prefix}heartbeat:${processId}`;
  let started = false;
  /** Both connections ready; false from the first loss until both are back. */
  let up = true;
  let droppedWhileDown = 0;
  let downSince = 0;
  let lastEcho = Date.now();
  let closing = false;
  /** A new pair is being opened after a silent connection: no second one meanwhile. */
  let replacing = false;
  // At start-up an unreachable Redis is a configuration error, reported at once; later on, a
  // lost connection is retried for as long as it takes.
  const reconnectStrategy = (retries: number, cause: Error) =>
    started
      ? Math.min(100 * 2 ** retries, 2000)
      : retries >= 3
        ? new Error(`Cannot reach Redis at REDIS_URL (${cause.message}): is it running?`)
        : 200;
  // Every failed reconnect attempt is an error event: the first one of an outage is a warning.
  const onError = (err: Error) =>
    up || !started
      ? log.warn({ err: err.message }, 'redis bus connection error')
      : log.debug({ err: err.message }, 'redis bus still unreachable');

  const handlers = new Map<number, (m: BusMessage) => void>();
  /** One listener per room, so subscribing a room twice does not deliver twice. */
  const listeners = new Map<number, (frame: Buffer) => void>();
  const resubscribed: ((docId?: number) => void)[] = [];
  /** Rooms whose subscription, asked for while the bus was down, failed: asked again once it is up. */
  const unsubscribed = new Set<number>();

  const listenerOf = (docId: number) => {
    let fn = listeners.get(docId);
    if (!fn) {
      fn = (frame: Buffer) => {
        const m = decodeBusFrame(docId, frame);
        if (!m) log.warn({ docId }, 'redis bus: undecodable frame dropped');
        else if (m.origin !== processId) handlers.get(docId)?.(m);
      };
      listeners.set(docId, fn);
    }
    return fn;
  };
  const onEcho = () => {
    lastEcho = Date.now();
  };

  const lost = () => {
    if (!up || closing) return;
    up = false;
    downSince = Date.now();
    droppedWhileDown = 0;
    log.warn(
      { rooms: handlers.size },
      'redis bus down: this process serves only its own clients until it is back',
    );
  };
  const ready = () => {
    // 'ready' fires again after an automatic reconnect, once node-redis has resubscribed.
    if (up || replacing || closing || !pub.isReady || !sub.isReady) return;
    up = true;
    lastEcho = Date.now();
    log.info(
      { rooms: handlers.size, downMs: Date.now() - downSince, droppedWhileDown },
      'redis bus back: resyncing open rooms',
    );
    for (const docId of unsubscribed) subscribeLate(docId);
    unsubscribed.clear();
    for (const fn of resubscribed) fn();
  };

  /**
   * A connected pair with the heartbeat and these rooms subscribed; `ready` is listened to only
   * once they are (it is what tells the hub to resync).
   */
  async function openPair(rooms: readonly number[]): Promise<[Client, Client]> {
    const p: Client = createClient({ url, socket: { connectTimeout: 5000, reconnectStrategy } });
    const s: Client = p.duplicate();
    opening.add(p).add(s);
    for (const c of [p, s]) {
      c.on('error', onError);
      c.on('reconnecting', lost);
      c.on('end', lost);
    }
    try {
      await Promise.all([p.connect(), s.connect()]);
      await s.subscribe(heartbeatChannel, onEcho, true);
      await Promise.all(rooms.map((d) => s.subscribe(channelOf(prefix, d), listenerOf(d), true)));
    } catch (err) {
      await Promise.allSettled([p.destroy(), s.destroy()]);
      throw err;
    } finally {
      opening.delete(p);
      opening.delete(s);
    }
    return [p, s];
  }
  /** Pairs still connecting (a reopening can wait for Redis indefinitely): closed with the bus. */
  const opening = new Set<Client>();
  const listenReady = (...clients: Client[]) => {
    for (const c of clients) c.on('ready', ready);
  };

  let [pub, sub] = await openPair([]);
  listenReady(pub, sub);
  started = true;

  // Subscribed while down: the command waits for the connection and is sent after the automatic
  // resubscription, so that room resyncs once more when it takes effect.
  function subscribeLate(docId: number) {
    sub.subscribe(channelOf(prefix, docId), listenerOf(docId), true).then(
      () => {
        if (handlers.has(docId)) for (const fn of resubscribed) fn(docId);
      },
      (err: Error) => {
        log.warn({ err: err.message, docId }, 'redis bus: subscription failed; retried when the bus is back');
        if (handlers.has(docId)) unsubscribed.add(docId);
      },
    );
  }

  /** The connections went silent: drop them and open a new pair, with every room subscribed. */
  async function replace(silentMs: number) {
    replacing = true;
    log.warn({ silentMs }, 'redis bus: no heartbeat came back; the connections are taken for dead');
    lost();
    for (const c of [pub, sub]) {
      c.removeAllListeners();
      c.on('error', () => {});
      c.destroy();
    }
    for (;;) {
      if (closing) return;
      try {
        [pub, sub] = await openPair([...handlers.keys()]);
        break;
      } catch (err) {
        log.debug({ err: (err as Error).message }, 'redis bus still unreachable');
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
    if (closing) {
      await Promise.allSettled([pub.destroy(), sub.destroy()]);
      return;
    }
    listenReady(pub, sub);
    replacing = false;
    unsubscribed.clear();
    ready();
  }

  const heartbeat = setInterval(() => {
    if (closing || replacing) return;
    const silentMs = Date.now() - lastEcho;
    // Only while node-redis believes the connections work: a known outage is its own to retry.
    if (up && pub.isReady && sub.isReady && silentMs > deadAfterMs) void replace(silentMs);
    else if (pub.isReady) pub.publish(heartbeatChannel, '').catch(() => {});
  }, heartbeatMs);
  heartbeat.unref();

  return {
    processId,
    get connected() {
      return up;
    },
    async join(docId, onMessage) {
      handlers.set(docId, onMessage);
      // Down: the room opens from the database without waiting for Redis.
      if (!up || !sub.isReady) return subscribeLate(docId);
      await sub.subscribe(channelOf(prefix, docId), listenerOf(docId), true);
    },
    async leave(docId) {
      handlers.delete(docId);
      listeners.delete(docId);
      unsubscribed.delete(docId);
      const done = sub.unsubscribe(channelOf(prefix, docId));
      if (sub.isReady) await done;
      else done.catch(() => {}); // sent when it is back, or moot after a reconnect
    },
    publish(kind, docId, payload) {
      // After close: an update still being stored when the server stopped. It is in the
      // database, and its sender (closed with 1001) syncs it to whichever process it reconnects to.
      if (closing) return;
      if (!up || !pub.isReady) {
        droppedWhileDown++;
        return;
      }
      pub.publish(channelOf(prefix, docId), encodeBusFrame(kind, processId, payload)).catch((err: Error) => {
        // Dropped with a connection taken for dead: made good by the resync like the rest.
        if (!up) droppedWhileDown++;
        else log.warn({ err: err.message, docId }, 'redis bus publish failed');
      });
    },
    onResubscribed(fn) {
      resubscribed.push(fn);
    },
    async close() {
      closing = true;
      clearInterval(heartbeat);
      handlers.clear();
      // A connection that is down would wait for Redis to return before quitting.
      await Promise.allSettled([
        ...[sub, pub].map((c) => (c.isReady ? c.quit() : c.destroy())),
        ...[...opening].map((c) => c.destroy()),
      ]);
    },
  };
}
