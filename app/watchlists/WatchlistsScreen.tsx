import {
  type FormEvent,
  type KeyboardEvent,
  useEffect,
  useId,
  useLayoutEffect,
  useRef,
  useState,
} from 'react';
import type * as Y from 'yjs';
import { price } from '../format.ts';
import { type PlainId, say, useT } from '../i18n/i18n.ts';
import { dayChange } from '../market/quote.ts';
import { useIsStale } from '../market/stale.ts';
import { useMarket } from '../state/market.ts';
import { useSession } from '../state/session.ts';
import {
  type MemberRole,
  startWatchlists,
  useWatchlists,
  type WatchlistDetail,
  type WatchlistRole,
  type WatchlistSummary,
} from '../state/watchlists.ts';
import { type Editor, type SyncStatus, useWatchlistLink } from './connect.ts';
import { lossText } from './losses.ts';
import { addTicker, moveTicker, parseTicker, removeTicker, type WatchlistContent } from './model.ts';
import { bindNote } from './noteBinding.ts';
import './watchlists.css';

const ROLE_LABEL: Record<WatchlistRole, PlainId> = {
  owner: 'wl.owner',
  editor: 'wl.canEdit',
  viewer: 'wl.readOnly',
};

/** Shared watchlists: the user's list, and the open one edited live with everyone it is shared with. */
export function WatchlistsScreen() {
  const user = useSession((s) => s.user);
  const list = useWatchlists((s) => s.list);
  const openId = useWatchlists((s) => s.openId);
  const error = useWatchlists((s) => s.error);
  const losses = useWatchlists((s) => s.losses);
  const t = useT();
  useEffect(() => startWatchlists(), []);
  if (!user) return null;
  const open = list?.find((w) => w.id === openId);
  // Why a list vanished comes first; it stays until dismissed, whatever opens meanwhile.
  const notice = [lossText(losses), error && say(error)].filter(Boolean).join(' ');
  return (
    <section className="panel watchlists" aria-labelledby="watchlists-title">
      <h2 id="watchlists-title">{t('wl.title')}</h2>
      {notice && (
        <p role="alert" className="problem wl-error">
          {notice}{' '}
          <button type="button" className="small" onClick={() => useWatchlists.getState().dismissError()}>
            {t('wl.dismiss')}
          </button>
        </p>
      )}
      <div className="wl-layout">
        <Picker list={list} openId={openId} canCreate={user.role !== 'viewer'} />
        {open ? (
          <OpenWatchlist key={open.id} watchlist={open} username={user.username} />
        ) : (
          <p className="muted">
            {list?.length ? t('wl.choose') : user.role === 'viewer' ? t('wl.nothingShared') : t('wl.noneYet')}
          </p>
        )}
      </div>
    </section>
  );
}

function Picker({
  list,
  openId,
  canCreate,
}: {
  list: readonly WatchlistSummary[] | undefined;
  openId: string | undefined;
  canCreate: boolean;
}) {
  const [name, setName] = useState('');
  const t = useT();
  const create = async (e: FormEvent) => {
    e.preventDefault();
    await useWatchlists.getState().create(name);
    setName('');
  };
  return (
    <nav aria-label={t('wl.yours')} className="wl-picker">
      {list === undefined ? (
        <p className="muted">{t('common.loading')}</p>
      ) : (
        <ul>
          {list.map((w) => (
            <li key={w.id}>
              <button
                type="button"
                aria-label={w.name}
                aria-current={w.id === openId ? 'true' : undefined}
                onClick={() => void useWatchlists.getState().open(w.id)}
              >
                {w.name} <small>{t(ROLE_LABEL[w.role])}</small>
              </button>
            </li>
          ))}
        </ul>
      )}
      {canCreate && (
        <form className="wl-row" onSubmit={create}>
          <input
            aria-label={t('wl.newName')}
            placeholder={t('wl.newPlaceholder')}
            maxLength={100}
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
          <button type="submit" className="small">
            {t('wl.create')}
          </button>
        </form>
      )}
    </nav>
  );
}

const STATUS_TEXT: Record<SyncStatus, PlainId> = {
  loading: 'wl.status.loading',
  connecting: 'wl.status.connecting',
  synced: 'wl.status.synced',
  offline: 'wl.status.offline',
  stopped: 'wl.status.stopped',
};
const STATUS_TONE: Record<SyncStatus, string> = {
  loading: 'warn',
  connecting: 'warn',
  synced: 'ok',
  offline: 'bad',
  stopped: 'bad',
};

function OpenWatchlist({ watchlist, username }: { watchlist: WatchlistSummary; username: string }) {
  const readOnly = watchlist.role === 'viewer';
  const t = useT();
  const detail = useWatchlists((s) => s.details[watchlist.id]);
  const { link, state } = useWatchlistLink(watchlist.id, username, {
    onRefused: () => void useWatchlists.getState().refresh(),
    onLost: (why) => void useWatchlists.getState().lost(watchlist, why),
  });
  const status = t(
    readOnly && state.status === 'offline' ? 'wl.status.offlineReadOnly' : STATUS_TEXT[state.status],
  );
  return (
    <article className="wl-open" aria-label={t('wl.aria', { name: watchlist.name })}>
      <header className="wl-head">
        <h3>{watchlist.name}</h3>
        <output className={`badge ${STATUS_TONE[state.status]}`} data-testid="sync-status">
          {status}
        </output>
        <Presence editors={state.editors} />
      </header>
      {readOnly && (
        <p className="wl-readonly" role="note">
          {t('wl.readOnlyNote', { owner: detail ? ` (${detail.ownerName})` : '' })}
        </p>
      )}
      {state.problem && (
        <p role="alert" className="problem">
          {say(state.problem)}{' '}
          {state.status === 'stopped' && link && (
            <button type="button" className="small" onClick={() => link.retry()}>
              {t('wl.retry')}
            </button>
          )}
        </p>
      )}
      <RenameForm key={watchlist.name} watchlist={watchlist} disabled={readOnly} />
      {link && state.content ? (
        <>
          <AddTicker doc={link.doc} present={state.content.tickers} disabled={readOnly} />
          <TickerTable doc={link.doc} content={state.content} readOnly={readOnly} />
        </>
      ) : (
        <p className="muted">{t('wl.openingCopy')}</p>
      )}
      {watchlist.role === 'owner' && (
        <>
          <SharePanel id={watchlist.id} detail={detail} />
          <DeleteWatchlist watchlist={watchlist} />
        </>
      )}
      {watchlist.role !== 'owner' && detail && (
        <p className="muted">{t('wl.ownerIs', { name: detail.ownerName })}</p>
      )}
    </article>
  );
}

function Presence({ editors }: { editors: readonly Editor[] }) {
  const t = useT();
  if (editors.length === 0) return null;
  return (
    <ul className="wl-presence" aria-label={t('wl.alsoHere')}>
      {editors.map((e) => (
        <li key={e.clientId}>
          <span className="wl-dot" style={{ background: e.color }} aria-hidden="true" />
          {e.name}
        </li>
      ))}
    </ul>
  );
}

/** Remounted (key) when the name changes, so a rolled-back rename shows the old name again. */
function RenameForm({ watchlist, disabled }: { watchlist: WatchlistSummary; disabled: boolean }) {
  const [name, setName] = useState(watchlist.name);
  const t = useT();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void useWatchlists.getState().rename(watchlist.id, name);
  };
  return (
    <form className="wl-row" onSubmit={submit}>
      <input
        aria-label={t('wl.name')}
        maxLength={100}
        value={name}
        disabled={disabled}
        onChange={(e) => setName(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') setName(watchlist.name);
        }}
      />
      <button type="submit" className="small" disabled={disabled || name.trim() === watchlist.name}>
        {t('wl.rename')}
      </button>
    </form>
  );
}

function AddTicker({
  doc,
  present,
  disabled,
}: {
  doc: Y.Doc;
  present: readonly string[];
  disabled: boolean;
}) {
  const tickers = useMarket((s) => s.tickers);
  const kept = useMarket((s) => s.quotes);
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<string>();
  const listId = useId();
  const t = useT();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const ticker = parseTicker(text);
    if (!ticker) return setProblem(t('wl.badTicker'));
    // The feed's tickers; offline before the server named them, the ones this device kept.
    const known = tickers.length ? tickers : Object.keys(kept);
    if (known.length && !known.includes(ticker))
      return setProblem(t('wl.notOnFeed', { ticker, list: known.join(', ') }));
    if (!addTicker(doc, ticker)) return setProblem(t('wl.already', { ticker }));
    setText('');
    setProblem(undefined);
  };
  return (
    <form className="wl-row" onSubmit={submit}>
      <input
        aria-label={t('wl.addTicker')}
        placeholder={t('wl.tickerPlaceholder')}
        list={listId}
        autoComplete="off"
        spellCheck={false}
        value={text}
        disabled={disabled}
        onChange={(e) => {
          setText(e.target.value);
          setProblem(undefined);
        }}
      />
      <datalist id={listId}>
        {tickers
          .filter((tk) => !present.includes(tk))
          .map((tk) => (
            <option key={tk} value={tk} />
          ))}
      </datalist>
      <button type="submit" className="small" disabled={disabled}>
        {t('wl.add')}
      </button>
      {problem && (
        <p role="alert" className="problem">
          {problem}
        </p>
      )}
    </form>
  );
}

function TickerTable({
  doc,
  content,
  readOnly,
}: {
  doc: Y.Doc;
  content: WatchlistContent;
  readOnly: boolean;
}) {
  const isStale = useIsStale();
  const t = useT();
  const table = useRef<HTMLTableElement>(null);
  // React moves a reordered row's nodes, which drops focus: put it back on the same control.
  const refocus = useRef<string | undefined>(undefined);
  useLayoutEffect(() => {
    const label = refocus.current;
    refocus.current = undefined;
    if (!label || !table.current) return;
    const target = table.current.querySelector<HTMLElement>(`[aria-label="${CSS.escape(label)}"]`);
    if (target && !(target as HTMLButtonElement).disabled) target.focus();
    else target?.closest('tr')?.querySelector<HTMLElement>('textarea')?.focus();
  }, [content.tickers]);
  const move = (ticker: string, to: number) => {
    const focused = document.activeElement?.getAttribute('aria-label') ?? undefined;
    if (moveTicker(doc, ticker, to)) refocus.current = focused;
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTableSectionElement>) => {
    if (readOnly || !e.altKey || (e.key !== 'ArrowUp' && e.key !== 'ArrowDown')) return;
    const ticker = (e.target as HTMLElement).closest('tr')?.dataset.ticker;
    const index = ticker ? content.tickers.indexOf(ticker) : -1;
    if (!ticker || index < 0) return;
    e.preventDefault();
    move(ticker, index + (e.key === 'ArrowUp' ? -1 : 1));
  };
  if (content.tickers.length === 0)
    return <p className="muted">{readOnly ? t('wl.noTickers') : t('wl.noTickersAdd')}</p>;
  return (
    <table ref={table} className="wl-table">
      <thead>
        <tr>
          <th scope="col">{t('wl.ticker')}</th>
          <th scope="col" className="num">
            {t('wl.last')}
          </th>
          <th scope="col" className="num">
            {t('wl.change')}
          </th>
          <th scope="col">{t('wl.note')}</th>
          <th scope="col">
            <span className="sr-only">{t('wl.orderRemove')}</span>
          </th>
        </tr>
      </thead>
      <tbody onKeyDown={onKeyDown}>
        {content.tickers.map((ticker, index) => (
          <TickerRow
            key={ticker}
            doc={doc}
            ticker={ticker}
            first={index === 0}
            last={index === content.tickers.length - 1}
            readOnly={readOnly}
            onMove={(delta) => move(ticker, index + delta)}
            isStale={isStale}
          />
        ))}
      </tbody>
    </table>
  );
}

function TickerRow(props: {
  doc: Y.Doc;
  ticker: string;
  first: boolean;
  last: boolean;
  readOnly: boolean;
  onMove(delta: -1 | 1): void;
  isStale(receivedAt: number): boolean;
}) {
  const { doc, ticker, readOnly } = props;
  const q = useMarket((s) => s.quotes[ticker]);
  const decimals = useMarket((s) => s.instruments[ticker]?.priceDecimals ?? 2);
  const t = useT();
  // The day's change as the board shows it: against the previous close.
  const change = (q && dayChange(q).pct) ?? undefined;
  return (
    <tr data-ticker={ticker} className={q && props.isStale(q.receivedAt) ? 'stale' : undefined}>
      <th scope="row">{ticker}</th>
      <td className="num" data-testid={`wl-last-${ticker}`}>
        {q ? price(q.last, decimals) : '—'}
      </td>
      <td className={`num ${change === undefined ? '' : change > 0 ? 'up' : change < 0 ? 'down' : ''}`}>
        {change === undefined ? '—' : `${change > 0 ? '+' : ''}${price(change)}%`}
      </td>
      <td className="wl-note">
        <NoteEditor doc={doc} ticker={ticker} readOnly={readOnly} />
      </td>
      <td className="wl-actions">
        <button
          type="button"
          className="small"
          aria-label={t('wl.moveUp', { ticker })}
          title={t('wl.moveUpTitle')}
          disabled={readOnly || props.first}
          onClick={() => props.onMove(-1)}
        >
          ↑
        </button>
        <button
          type="button"
          className="small"
          aria-label={t('wl.moveDown', { ticker })}
          title={t('wl.moveDownTitle')}
          disabled={readOnly || props.last}
          onClick={() => props.onMove(1)}
        >
          ↓
        </button>
        <button
          type="button"
          className="small danger"
          aria-label={t('wl.remove', { ticker })}
          disabled={readOnly}
          onClick={() => removeTicker(doc, ticker)}
        >
          ✕
        </button>
      </td>
    </tr>
  );
}

/**
 * A note typed into the shared text (noteBinding.ts): the field is not React's to set, so a change
 * from elsewhere neither resets it nor moves the cursor from where this writer is typing.
 */
function NoteEditor({ doc, ticker, readOnly }: { doc: Y.Doc; ticker: string; readOnly: boolean }) {
  const area = useRef<HTMLTextAreaElement>(null);
  const t = useT();
  useLayoutEffect(() => {
    const el = area.current;
    if (!el) return;
    const binding = bindNote(doc, ticker, el, () => document.activeElement === el);
    el.addEventListener('input', binding.input);
    return () => {
      el.removeEventListener('input', binding.input);
      binding.destroy();
    };
  }, [doc, ticker]);
  return (
    <textarea
      ref={area}
      aria-label={t('wl.noteFor', { ticker })}
      rows={1}
      readOnly={readOnly}
      placeholder={readOnly ? '' : t('wl.addNote')}
    />
  );
}

function SharePanel({ id, detail }: { id: string; detail: WatchlistDetail | undefined }) {
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<MemberRole>('editor');
  const t = useT();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (await useWatchlists.getState().share(id, username, role)) setUsername('');
  };
  return (
    <section className="wl-share" aria-label={t('wl.sharing')}>
      <h4>{t('wl.sharedWith')}</h4>
      {!detail ? (
        <p className="muted">{t('wl.membersOffline')}</p>
      ) : detail.members?.length ? (
        <ul aria-label={t('wl.members')}>
          {detail.members.map((m) => (
            <li key={m.username}>
              {m.username}{' '}
              <span className="muted">{t(m.role === 'editor' ? 'wl.canEdit' : 'wl.readOnly')}</span>{' '}
              <button
                type="button"
                className="small"
                aria-label={t('wl.stopSharing', { user: m.username })}
                onClick={() => void useWatchlists.getState().unshare(id, m.username)}
              >
                {t('wl.removeMember')}
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">{t('wl.nobody')}</p>
      )}
      <form className="wl-row" onSubmit={submit}>
        <input
          aria-label={t('wl.shareWith')}
          placeholder={t('wl.usernamePlaceholder')}
          autoComplete="off"
          spellCheck={false}
          value={username}
          onChange={(e) => setUsername(e.target.value)}
        />
        <select
          aria-label={t('wl.role')}
          value={role}
          onChange={(e) => setRole(e.target.value as MemberRole)}
        >
          <option value="editor">{t('wl.canEdit')}</option>
          <option value="viewer">{t('wl.readOnly')}</option>
        </select>
        <button type="submit" className="small">
          {t('wl.share')}
        </button>
      </form>
    </section>
  );
}

function DeleteWatchlist({ watchlist }: { watchlist: WatchlistSummary }) {
  const [confirming, setConfirming] = useState(false);
  const t = useT();
  if (!confirming)
    return (
      <button type="button" className="small danger wl-delete" onClick={() => setConfirming(true)}>
        {t('wl.delete')}
      </button>
    );
  return (
    <p className="wl-delete">
      {t('wl.deleteAsk', { name: watchlist.name })}{' '}
      <button
        type="button"
        className="small danger"
        onClick={() => void useWatchlists.getState().remove(watchlist.id)}
      >
        {t('wl.deleteAll')}
      </button>{' '}
      <button type="button" className="small" onClick={() => setConfirming(false)}>
        {t('wl.keep')}
      </button>
    </p>
  );
}
