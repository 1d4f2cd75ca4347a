import type { Logger } from '../log.ts';
import type { WsEndpoint } from '../ws.ts';
import { type CollabBus, LocalNetwork } from './bus.ts';
import { SharedDocuments } from './documents.ts';
import { yjsEndpoint } from './endpoint.ts';
import { CollabHub, type CollabLimits } from './hub.ts';
import { redisBus } from './redisBus.ts';
import type { DocumentRepository } from './storage.ts';

export interface Collab {
  readonly hub: CollabHub;
  readonly bus: CollabBus;
  readonly watchlists: SharedDocuments;
  readonly endpoint: WsEndpoint;
  /** Writes what is pending and leaves the bus; call after the sockets are closed. */
  close(): Promise<void>;
}

export interface CollabOptions {
  /** Where documents are stored (store/collab.ts, built by server.ts). */
  readonly store: DocumentRepository;
  /** Redis pub/sub between processes; absent: this process is alone (in-process bus). */
  readonly redisUrl: string | undefined;
  readonly limits: CollabLimits;
  readonly log: Logger;
}

/** Shared documents: storage, bus, rooms, the /yjs endpoint and the watchlist service. */
export async function startCollab(opts: CollabOptions): Promise<Collab> {
  const { store } = opts;
  const bus = opts.redisUrl ? await redisBus(opts.redisUrl, opts.log) : new LocalNetwork().bus();
  const hub = new CollabHub({ store, bus, log: opts.log, limits: opts.limits });
  return {
    hub,
    bus,
    watchlists: new SharedDocuments(store, hub, 'watchlist'),
    endpoint: yjsEndpoint(hub, opts.limits.maxMessageBytes),
    async close() {
      await hub.close();
      await bus.close();
    },
  };
}
