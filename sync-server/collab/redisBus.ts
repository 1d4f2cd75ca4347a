import { createClient } from 'redis';
import type { Logger } from '../log.ts';
import { type BusMessage, type CollabBus, decodeBusFrame, encodeBusFrame, newProcessId } from './bus.ts';

// The production bus: Redis pub/sub, one channel per document. Pub/sub is at-most-once, and
// while Redis is unreachable each process serves only its own clients: nothing is queued for
// later (a long outage would grow the queue without bound). When both connections are back the
// hub is told, and resyncs every open room (hub.ts `resync`): what others stored comes from the
// database, and its own state is published once for the processes that stayed connected.

const channelOf = (prefix: string, docId: number) => `${prefix}${docId}`;

export async function redisBus(url: string, log: Logger, prefix = 'tape:yjs:'): Promise<CollabBus> {
  const processId = newProcessId();
  let started = false;
  /** Both connections ready; false from the first loss until both are back. */
  let up = true;
  let droppedWhileDown = 0;
  let downSince = 0;
  // At start-up an unreachable Redis is a configuration error, reported at once; later on, a
  // lost connection is retried for as long as it takes.
  const reconnectStrategy = (retries: number, cause: Error) =>
    started
      ? Math.min(100 * 2 ** retries, 2000)
      : retries >= 3
        ? new Error(`Cannot reach Redis at REDIS_URL (${cause.message}): is it running?`)
        : 200;
  const pub = createClient({ url, socket: { connectTimeout: 5000, reconnectStrategy } });
  const sub = pub.duplicate();
  // Every failed reconnect attempt is an error event: the first one of an outage is a warning.
  const onError = (err: Error) =>
    up || !started
      ? log.warn({ err: err.message }, 'redis bus connection error')
      : log.debug({ err: err.message }, 'redis bus still unreachable');
  pub.on('error', onError);
  sub.on('error', onError);
  try {
    await Promise.all([pub.connect(), sub.connect()]);
  } catch (err) {
    await Promise.allSettled([pub.destroy(), sub.destroy()]);
    throw err;
  }
  started = true;

  const handlers = new Map<number, (m: BusMessage) => void>();
  const resubscribed: ((docId?: number) => void)[] = [];
  /** Rooms whose subscription, asked for while the bus was down, failed: asked again once it is up. */
  const unsubscribed = new Set<number>();

  const listener = (docId: number) => (frame: Buffer) => {
    const m = decodeBusFrame(docId, frame);
    if (!m) log.warn({ docId }, 'redis bus: undecodable frame dropped');
    else if (m.origin !== processId) handlers.get(docId)?.(m);
  };
  // Subscribed while down: the command waits for the connection and is sent after the automatic
  // resubscription, so that room resyncs once more when it takes effect.
  const subscribeLate = (docId: number) => {
    sub.subscribe(channelOf(prefix, docId), listener(docId), true).then(
      () => {
        if (handlers.has(docId)) for (const fn of resubscribed) fn(docId);
      },
      (err: Error) => {
        log.warn({ err: err.message, docId }, 'redis bus: subscription failed; retried when the bus is back');
        if (handlers.has(docId)) unsubscribed.add(docId);
      },
    );
  };

  let closing = false;
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
    if (up || !pub.isReady || !sub.isReady) return;
    up = true;
    log.info(
      { rooms: handlers.size, downMs: Date.now() - downSince, droppedWhileDown },
      'redis bus back: resyncing open rooms',
    );
    for (const docId of unsubscribed) subscribeLate(docId);
    unsubscribed.clear();
    for (const fn of resubscribed) fn();
  };
  for (const client of [pub, sub]) {
    client.on('reconnecting', lost);
    client.on('end', lost);
    client.on('ready', ready);
  }

  return {
    processId,
    get connected() {
      return up;
    },
    async join(docId, onMessage) {
      handlers.set(docId, onMessage);
      // Down: the room opens from the database without waiting for Redis.
      if (!sub.isReady) return subscribeLate(docId);
      await sub.subscribe(channelOf(prefix, docId), listener(docId), true);
    },
    async leave(docId) {
      handlers.delete(docId);
      unsubscribed.delete(docId);
      const done = sub.unsubscribe(channelOf(prefix, docId));
      if (sub.isReady) await done;
      else done.catch(() => {}); // sent when it is back, or moot after a reconnect
    },
    publish(kind, docId, payload) {
      // After close: an update still being stored when the server stopped. It is in the
      // database, and its sender (closed with 1001) syncs it to whichever process it reconnects to.
      if (closing) return;
      if (!pub.isReady) {
        droppedWhileDown++;
        return;
      }
      pub
        .publish(channelOf(prefix, docId), encodeBusFrame(kind, processId, payload))
        .catch((err: Error) => log.warn({ err: err.message, docId }, 'redis bus publish failed'));
    },
    onResubscribed(fn) {
      resubscribed.push(fn);
    },
    async close() {
      closing = true;
      handlers.clear();
      // A connection that is down would wait for Redis to return before quitting.
      await Promise.allSettled([sub, pub].map((c) => (c.isReady ? c.quit() : c.destroy())));
    },
  };
}
