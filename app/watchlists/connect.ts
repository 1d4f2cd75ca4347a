import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { DexieYProvider } from 'y-dexie';
import * as authProtocol from 'y-protocols/auth';
import { messageAuth, WebsocketProvider } from 'y-websocket';
import type * as Y from 'yjs';
import { socketTicket } from '../api/client.ts';
import { localDb } from '../data/db.ts';
import { type Message, msg, type Text } from '../i18n/i18n.ts';
import { useSession } from '../state/session.ts';
import type { LossReason } from './losses.ts';
import { readWatchlist, type WatchlistContent } from './model.ts';

// One open watchlist: its Yjs document loaded from this device (y-dexie), then synced with
// /yjs/watchlist:<id> by the stock WebsocketProvider, with who else is looking (awareness).

export type SyncStatus = 'loading' | 'connecting' | 'synced' | 'offline' | 'stopped';

export interface Editor {
  readonly clientId: number;
  readonly name: string;
  readonly color: string;
}

export interface LinkState {
  readonly status: SyncStatus;
  /** What went wrong and what to do, while it matters. */
  readonly problem: Text | undefined;
  /** Undefined until the copy on this device has loaded. */
  readonly content: WatchlistContent | undefined;
  /** Other people with this watchlist open, each once. */
  readonly editors: readonly Editor[];
}

export interface LinkHooks {
  /** The server refused a change: this user's role has probably changed. */
  onRefused(): void;
  /** Access is gone for good: the close code says whether it was unshared or deleted. */
  onLost(why: Exclude<LossReason, 'gone'>): void;
}

/** Server close codes that end syncing (collab/hub.ts), in words that say what to do. */
const STOPPED_BECAUSE: Record<number, Message> = {
  4400: msg('wl.stopped4400'),
  4413: msg('wl.stopped4413'),
};
const TOKEN_EXPIRED = 4401;
/** Close codes that end access for good, told by the watchlists store (losses.ts). */
const LOST: Record<number, Exclude<LossReason, 'gone'>> = { 4403: 'unshared', 4404: 'deleted' };
const REFUSED = msg('wl.refused');

/** A stable colour per person, so a chip looks the same on every screen. */
function colorOf(name: string): string {
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return `hsl(${hash % 360} 65% 60%)`;
}

const socketBase = () => {
  const url = new URL('/yjs', location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
};

export class WatchlistLink {
  readonly doc: Y.Doc;
  private state: LinkState = { status: 'loading', problem: undefined, content: undefined, editors: [] };
  private readonly listeners = new Set<() => void>();
  private socket: WebsocketProvider | undefined;
  private closed = false;
  /** Set by a close code that reconnecting cannot fix; cleared by retry(). */
  private halted = false;
  /** Numbers the reconnects: a ticket that comes back after a newer one began is not used. */
  private generation = 0;
  /** Connections lost since the last sync: the backoff before the next one. */
  private failures = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly cleanups: (() => void)[] = [];

  constructor(
    readonly id: string,
    private readonly username: string,
    private readonly hooks: LinkHooks,
  ) {
    this.doc = DexieYProvider.getOrCreateDocument(localDb(), 'watchlists', 'doc', id);
    const local = DexieYProvider.load(this.doc);
    const onUpdate = () => this.set({ content: readWatchlist(this.doc) });
    this.doc.on('update', onUpdate);
    // y-dexie destroys the document when its row is deleted (unshared, deleted elsewhere).
    const onDestroy = () => this.close();
    this.doc.on('destroy', onDestroy);
    this.cleanups.push(() => {
      this.doc.off('update', onUpdate);
      this.doc.off('destroy', onDestroy);
    });
    local.whenLoaded.then(
      () => {
        if (this.closed) return;
        this.set({ content: readWatchlist(this.doc) });
        this.attachSocket();
      },
      (err: Error) => {
        if (!this.closed)
          this.set({
            status: 'stopped',
            problem: msg('wl.unreadable', { reason: err.message }),
          });
      },
    );
  }

  getState = (): LinkState => this.state;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Tries again after a stop that a person may have fixed (a full document, a bad message). */
  retry(): void {
    this.halted = false;
    this.set({ problem: undefined });
    this.reconnect();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const cleanup of this.cleanups) cleanup();
    // Tells the others we left, then stops the socket and its awareness timer.
    this.socket?.destroy();
    this.socket?.awareness.destroy();
    DexieYProvider.release(this.doc);
    this.listeners.clear();
  }

  private set(patch: Partial<LinkState>): void {
    if (this.closed) return;
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener();
  }

  private attachSocket(): void {
    const socket = new WebsocketProvider(socketBase(), `watchlist:${this.id}`, this.doc, {
      connect: false,
      // Tabs of other users on this browser must not sync around the server's access checks.
      disableBc: true,
      // Each connection needs a fresh one-time ticket: this class reconnects (stoppedBy), never the
      // provider with the spent ticket still in its URL.
      shouldReconnect: () => false,
    });
    this.socket = socket;
    socket.messageHandlers[messageAuth] = (_encoder, decoder) =>
      authProtocol.readAuthMessage(decoder, this.doc, () => {
        this.set({ problem: REFUSED });
        this.hooks.onRefused();
      });
    socket.awareness.setLocalStateField('user', { name: this.username, color: colorOf(this.username) });
    socket.awareness.on('change', () => this.set({ editors: this.editors(socket) }));
    socket.on('status', ({ status }) => {
      if (status === 'connected') this.set({ status: 'connecting' });
    });
    socket.on('sync', (synced) => {
      if (!synced) return;
      this.failures = 0;
      this.set({ status: 'synced', problem: this.state.problem === REFUSED ? REFUSED : undefined });
    });
    socket.on('connection-close', () => {
      if (!this.halted) this.set({ status: 'offline' });
    });
    socket.on('closed', ({ code, reason }) => this.stoppedBy(code, reason));

    // A renewed token reconnects at once: the server closes a socket when its token expires.
    this.cleanups.push(
      useSession.subscribe((s, prev) => {
        if (s.accessToken && s.accessToken !== prev.accessToken) this.reconnect();
      }),
    );
    const offline = () => {
      socket.disconnect();
      this.set({ status: 'offline' });
    };
    const online = () => this.reconnect();
    window.addEventListener('offline', offline);
    window.addEventListener('online', online);
    this.cleanups.push(() => {
      clearTimeout(this.retryTimer);
      window.removeEventListener('offline', offline);
      window.removeEventListener('online', online);
    });
    this.reconnect();
  }

  private reconnect(): void {
    const socket = this.socket;
    if (!socket || this.closed || this.halted) return;
    clearTimeout(this.retryTimer);
    socket.disconnect();
    if (!useSession.getState().accessToken || !navigator.onLine) {
      // Edits keep landing in the local copy; they go out with the next sync.
      this.set({ status: 'offline' });
      return;
    }
    this.set({ status: 'connecting' });
    const generation = ++this.generation;
    // The URL carries a one-time ticket, never the access token (browser console, proxy logs).
    socketTicket().then(
      (ticket) => {
        if (generation !== this.generation || this.closed || this.halted) return;
        socket.params = { ticket };
        socket.connect();
      },
      () => {
        if (generation === this.generation) this.reconnectLater();
      },
    );
  }

  /** Connects again after a backoff: the connection dropped, or no ticket (server unreachable). */
  private reconnectLater(): void {
    if (this.closed || this.halted) return;
    this.set({ status: 'offline' });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.reconnect(), Math.min(5_000, 100 * 2 ** this.failures++));
  }

  private stoppedBy(code: number, reason: string): void {
    if (code < 4400 || code >= 4500) {
      // Not the server refusing (the network, a restart, a refused upgrade: 1006): reconnect.
      this.reconnectLater();
      return;
    }
    if (code === TOKEN_EXPIRED) {
      // A renewed token reconnects through the session subscription; offline, `online` does. An
      // admin's disable or sign-out ends the session instead (and this link with the screen).
      this.set({ status: 'offline' });
      if (!useSession.getState().closedByServer(code, reason)) void useSession.getState().refresh();
      return;
    }
    this.halted = true;
    const lost = LOST[code];
    if (lost) {
      // Said by the store, which also hears of it from the list refresh: the watchlist leaves
      // this device and this view with it.
      this.set({ status: 'stopped' });
      this.hooks.onLost(lost);
      return;
    }
    const message = STOPPED_BECAUSE[code] ?? msg('wl.stoppedCode', { code });
    this.set({ status: 'stopped', problem: message });
  }

  private editors(socket: WebsocketProvider): Editor[] {
    const byName = new Map<string, Editor>();
    for (const [clientId, state] of socket.awareness.getStates()) {
      const name: unknown = state.user?.name;
      if (clientId === this.doc.clientID || typeof name !== 'string' || name === this.username) continue;
      const shown = name.slice(0, 40);
      // Colours are computed here, not taken from the wire: every screen agrees, none is injected.
      if (!byName.has(shown)) byName.set(shown, { clientId, name: shown, color: colorOf(shown) });
    }
    return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}

const NOT_OPEN: LinkState = { status: 'loading', problem: undefined, content: undefined, editors: [] };
const noSubscription = () => () => {};

/** Opens watchlist `id` for as long as the component is mounted. */
export function useWatchlistLink(
  id: string,
  username: string,
  hooks: LinkHooks,
): { link: WatchlistLink | undefined; state: LinkState } {
  const [link, setLink] = useState<WatchlistLink>();
  // The latest callbacks, without reopening the document when they change.
  const hooksRef = useRef(hooks);
  hooksRef.current = hooks;
  useEffect(() => {
    const opened = new WatchlistLink(id, username, {
      onRefused: () => hooksRef.current.onRefused(),
      onLost: (why) => hooksRef.current.onLost(why),
    });
    setLink(opened);
    return () => {
      opened.close();
      setLink(undefined);
    };
  }, [id, username]);
  const state = useSyncExternalStore(link?.subscribe ?? noSubscription, link?.getState ?? (() => NOT_OPEN));
  return { link, state };
}
