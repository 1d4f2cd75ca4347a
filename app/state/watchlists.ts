import { liveQuery } from 'dexie';
import { create } from 'zustand';
import { ApiError, api } from '../api/client.ts';
import { type LocalDb, localDb, type WatchlistRow } from '../data/db.ts';
import { type Message, msg, type Text } from '../i18n/i18n.ts';
import { type Loss, type LossReason, noteLoss } from '../watchlists/losses.ts';
import { useSession } from './session.ts';

// The user's watchlists: names and roles from REST, kept in the local database so the list shows
// offline. Renames and shares show at once and are put back if the server refuses them; their
// contents are Yjs documents (app/watchlists/connect.ts).

const BASE = '/api/v1/watchlists';
const OPEN_KEY = 'watchlists.open';
/** y-dexie's table of document updates for `watchlists.doc`. */
const UPDATES_TABLE = '$watchlists.doc_updates';
const USERNAME = /^[a-z0-9._-]{3,40}$/;

export type WatchlistRole = WatchlistRow['role'];
export type MemberRole = 'editor' | 'viewer';

export interface WatchlistSummary {
  readonly id: string;
  readonly name: string;
  readonly role: WatchlistRole;
}

export interface Member {
  readonly username: string;
  readonly role: MemberRole;
}

/** What only the server knows: the owner, and (for the owner) who it is shared with. */
export interface WatchlistDetail {
  readonly ownerName: string;
  readonly members: readonly Member[] | undefined;
}

interface RemoteWatchlist {
  readonly id: number;
  readonly name: string;
  readonly ownerName: string;
  readonly relation?: 'owner' | MemberRole;
  readonly role: MemberRole;
  readonly members?: readonly Member[];
}

interface WatchlistsState {
  /** Undefined until the local database has answered. */
  list: WatchlistSummary[] | undefined;
  openId: string | undefined;
  details: Record<string, WatchlistDetail>;
  /** The last thing that went wrong, saying what to do about it. */
  error: Text | undefined;
  /** Watchlists that left this device (unshared, deleted), until the trader dismisses them. */
  losses: readonly Loss[];
  open(id: string | undefined): Promise<void>;
  refresh(): Promise<void>;
  create(name: string): Promise<void>;
  rename(id: string, name: string): Promise<void>;
  /** True when the server accepted it. */
  share(id: string, username: string, role: MemberRole): Promise<boolean>;
  unshare(id: string, username: string): Promise<boolean>;
  remove(id: string): Promise<void>;
  /** The open watchlist's socket says access to it is gone: say so, and drop it from this device. */
  lost(watchlist: Pick<WatchlistSummary, 'id' | 'name'>, why: Exclude<LossReason, 'gone'>): Promise<void>;
  /** Clears the error and the losses shown. */
  dismissError(): void;
}

const roleOf = (w: RemoteWatchlist): WatchlistRole => (w.relation === 'owner' ? 'owner' : w.role);
const rowOf = (w: RemoteWatchlist) => ({ id: String(w.id), name: w.name, role: roleOf(w) });
const detailOf = (w: RemoteWatchlist): WatchlistDetail => ({ ownerName: w.ownerName, members: w.members });

/** Why `action` failed, in words that say what to do next. */
function reason(action: Message, err: unknown): Message {
  if (!(err instanceof ApiError)) return msg('wl.fail.other', { action, reason: String(err) });
  const refusal = { code: err.code, message: err.message };
  switch (err.code) {
    case 'offline':
      return msg('wl.fail.offline', { action });
    case 'unknown_user':
      return msg('wl.fail.unknownUser', { action, reason: refusal });
    case 'not_found':
      return msg('wl.fail.notFound', { action });
    default:
      return msg('wl.fail.server', { action, reason: refusal });
  }
}

async function forget(db: LocalDb, id: string): Promise<void> {
  await db.transaction('rw', db.watchlists, db.table(UPDATES_TABLE), async () => {
    await db.watchlists.delete(id);
    await db.table(UPDATES_TABLE).where('k').equals(id).delete();
  });
}

async function store(db: LocalDb, w: RemoteWatchlist): Promise<void> {
  const row = rowOf(w);
  const known = await db.watchlists.get(row.id);
  // Unchanged rows are left alone: every write wakes every live query on the table.
  if (known?.name !== row.name || known.role !== row.role) await db.watchlists.put(row);
}

/** Watchlists this user deleted here: the close and the refresh that follow are no news to them. */
const deletedHere = new Set<string>();

export const useWatchlists = create<WatchlistsState>((set, get) => {
  const fail = (message: Text) => set({ error: message });
  const setDetail = (id: string, detail: WatchlistDetail | undefined) =>
    set((s) => {
      const details = { ...s.details };
      if (detail) details[id] = detail;
      else delete details[id];
      return { details };
    });
  /** Tells the trader about `loss` (before the local copy goes), then forgets it. */
  const drop = async (loss: Loss) => {
    if (deletedHere.has(loss.id)) return;
    set((s) => ({ losses: noteLoss(s.losses, loss) }));
    await forget(localDb(), loss.id);
    setDetail(loss.id, undefined);
    if (get().openId === loss.id) await get().open(undefined);
  };
  /** Fetches one watchlist; the server's answer replaces what this device had. */
  const fetchDetail = async (id: string) => {
    try {
      const { watchlist } = await api<{ watchlist: RemoteWatchlist }>(`${BASE}/${id}`);
      await store(localDb(), watchlist);
      setDetail(id, detailOf(watchlist));
    } catch {
      // Offline the local row and document still work; a lost one is reported by its socket (4403/4404).
    }
  };
  /** Shows the members as `next` at once, then asks the server; puts them back if it refuses. */
  const changeMembers = async (
    id: string,
    action: Message,
    next: (members: readonly Member[]) => readonly Member[],
    request: () => Promise<RemoteWatchlist | undefined>,
  ): Promise<boolean> => {
    const before = get().details[id];
    if (before) setDetail(id, { ...before, members: next(before.members ?? []) });
    try {
      const answer = await request();
      if (answer) setDetail(id, detailOf(answer));
      return true;
    } catch (err) {
      setDetail(id, before);
      fail(reason(action, err));
      return false;
    }
  };

  return {
    list: undefined,
    openId: undefined,
    details: {},
    error: undefined,
    losses: [],
    dismissError: () => set({ error: undefined, losses: [] }),

    async open(id) {
      set({ openId: id, error: undefined });
      await localDb().settings.put({ key: OPEN_KEY, value: id ?? null });
      if (id) await fetchDetail(id);
    },

    async refresh() {
      const db = localDb();
      // Only rows here before the request can have vanished from its answer (not one created meanwhile).
      const before = await db.watchlists.toArray();
      let remote: RemoteWatchlist[];
      try {
        remote = (await api<{ watchlists: RemoteWatchlist[] }>(BASE)).watchlists;
      } catch (err) {
        // Offline the local list is the best there is; anything else is worth saying.
        if (!(err instanceof ApiError && err.code === 'offline')) fail(reason(msg('wl.act.load'), err));
        return;
      }
      const ids = new Set(remote.map((w) => String(w.id)));
      for (const w of remote) await store(db, w);
      // Deleted, or no longer shared with this user: said, and the local copy goes too.
      for (const row of before) if (!ids.has(row.id)) await drop({ id: row.id, name: row.name, why: 'gone' });
      const openId = get().openId;
      if (openId) await fetchDetail(openId);
    },

    lost: ({ id, name }, why) => drop({ id, name, why }),

    async create(name) {
      const trimmed = name.trim();
      if (!trimmed) return fail(msg('wl.needName'));
      try {
        const { watchlist } = await api<{ watchlist: RemoteWatchlist }>(BASE, { body: { name: trimmed } });
        await store(localDb(), watchlist);
        setDetail(String(watchlist.id), detailOf(watchlist));
        await get().open(String(watchlist.id));
      } catch (err) {
        fail(reason(msg('wl.act.create'), err));
      }
    },

    async rename(id, name) {
      const trimmed = name.trim();
      if (!trimmed) return fail(msg('wl.needNameRename'));
      const db = localDb();
      const before = await db.watchlists.get(id);
      if (!before || before.name === trimmed) return;
      await db.watchlists.update(id, { name: trimmed });
      try {
        const { watchlist } = await api<{ watchlist: RemoteWatchlist }>(`${BASE}/${id}`, {
          method: 'PATCH',
          body: { name: trimmed },
        });
        await store(db, watchlist);
      } catch (err) {
        await db.watchlists.update(id, { name: before.name });
        fail(reason(msg('wl.act.rename', { name: before.name }), err));
      }
    },

    async share(id, input, role) {
      const username = input.trim().toLowerCase();
      if (!USERNAME.test(username)) {
        fail(msg('wl.badUsername'));
        return false;
      }
      return changeMembers(
        id,
        msg('wl.act.share', { user: username }),
        (members) => [...members.filter((m) => m.username !== username), { username, role }],
        async () =>
          (
            await api<{ watchlist: RemoteWatchlist }>(`${BASE}/${id}/members/${username}`, {
              method: 'PUT',
              body: { role },
            })
          ).watchlist,
      );
    },

    unshare(id, username) {
      return changeMembers(
        id,
        msg('wl.act.unshare', { user: username }),
        (members) => members.filter((m) => m.username !== username),
        async () => {
          await api(`${BASE}/${id}/members/${username}`, { method: 'DELETE' });
          return undefined;
        },
      );
    },

    async remove(id) {
      // Not optimistic: deleting also drops this device's copy, which cannot be put back.
      deletedHere.add(id);
      try {
        await api(`${BASE}/${id}`, { method: 'DELETE' });
      } catch (err) {
        deletedHere.delete(id);
        return fail(reason(msg('wl.act.delete'), err));
      }
      await forget(localDb(), id);
      setDetail(id, undefined);
      if (get().openId === id) await get().open(undefined);
    },
  };
});

/** Loads the signed-in user's watchlists (local first, then the server); returns a stop function. */
export function startWatchlists(): () => void {
  const db = localDb();
  const rows = liveQuery(() => db.watchlists.toArray()).subscribe({
    next: (list) =>
      useWatchlists.setState({
        list: list
          .map(({ id, name, role }) => ({ id, name, role }))
          .sort((a, b) => a.name.localeCompare(b.name, 'pt-BR') || a.id.localeCompare(b.id)),
      }),
    error: (err) => useWatchlists.setState({ error: reason(msg('wl.act.readLocal'), err) }),
  });
  // Without a token (an offline start) the server would only answer 401: wait for one.
  const refresh = () => {
    if (useSession.getState().accessToken) void useWatchlists.getState().refresh();
  };
  const firstToken = useSession.subscribe((s, prev) => {
    if (s.accessToken && !prev.accessToken) refresh();
  });
  void (async () => {
    const saved = (await db.settings.get(OPEN_KEY))?.value;
    if (typeof saved === 'string' && (await db.watchlists.get(saved)))
      await useWatchlists.getState().open(saved);
    refresh();
  })();
  window.addEventListener('online', refresh);
  return () => {
    window.removeEventListener('online', refresh);
    firstToken();
    rows.unsubscribe();
    deletedHere.clear();
    useWatchlists.setState({ list: undefined, openId: undefined, details: {}, error: undefined, losses: [] });
  };
}
