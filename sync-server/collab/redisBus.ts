import { createClient } from 'redis';
import type { Logger } from '../log.ts';
import { type BusMessage, type CollabBus, decodeBusFrame, encodeBusFrame, newProcessId } from './bus.ts';

// The production bus: Redis pub/sub, one channel per document. Pub/sub is at-most-once; a
// process that reconnects tells its hub, which reloads its rooms from the database.

const channelOf = (prefix: string, docId: number) => `${prefix}${docId}`;

export async function redisBus(url: string, log: Logger, prefix = 'tape:yjs:'): Promise<CollabBus> {
  const processId = newProcessId();
  const onError = (err: Error) => log.warn({ err: err.message }, 'redis bus connection error');
  let started = false;
  // At start-up an unreachable Redis is a configuration error, reported at once; later on, a
  // lost connection is retried for as long as it takes.
  const reconnectStrategy = (retries: number, cause: Error) =>
    started
      ? Math.min(100 * 2 ** retries, 2000)
      : retries >= 3
        ? new Error(`Cannot reach Redis at REDIS_URL (${cause.message}): is it running?`)
        : 200;
  const pub = createClient({ url, socket: { connectTimeout: 5000, reconnectStrategy } });
  pub.on('error', onError);
  const sub = pub.duplicate();
  sub.on('error', onError);
  try {
    await Promise.all([pub.connect(), sub.connect()]);
  } catch (err) {
    await Promise.allSettled([pub.destroy(), sub.destroy()]);
    throw err;
  }
  started = true;

  const handlers = new Map<number, (m: BusMessage) => void>();
  const resubscribed: (() => void)[] = [];
  let connected = true;
  sub.on('end', () => {
    connected = false;
  });
  sub.on('ready', () => {
    // 'ready' fires again after an automatic reconnect (node-redis resubscribes by itself).
    if (connected) return;
    connected = true;
    for (const fn of resubscribed) fn();
  });
  sub.on('reconnecting', () => {
    connected = false;
  });

  return {
    processId,
    async join(docId, onMessage) {
      handlers.set(docId, onMessage);
      await sub.subscribe(
        channelOf(prefix, docId),
        (frame: Buffer) => {
          const m = decodeBusFrame(docId, frame);
          if (!m) log.warn({ docId }, 'redis bus: undecodable frame dropped');
          else if (m.origin !== processId) handlers.get(docId)?.(m);
        },
        true,
      );
    },
    async leave(docId) {
      handlers.delete(docId);
      await sub.unsubscribe(channelOf(prefix, docId));
    },
    publish(kind, docId, payload) {
      pub
        .publish(channelOf(prefix, docId), encodeBusFrame(kind, processId, payload))
        .catch((err: Error) => log.warn({ err: err.message, docId }, 'redis bus publish failed'));
    },
    onResubscribed(fn) {
      resubscribed.push(fn);
    },
    async close() {
      handlers.clear();
      await Promise.allSettled([sub.quit(), pub.quit()]);
    },
  };
}
