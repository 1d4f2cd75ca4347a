import { useEffect, useState } from 'react';
import { type AlertJson, MAX_ALERTS_PER_USER } from '../../sync-server/shared/alerts.ts';
import type { HeldAlertRow } from '../data/db.ts';
import { b3DateTime, price, quantity } from '../format.ts';
import { errorText, msg, type PlainId, say, type Text, useT } from '../i18n/i18n.ts';
import { CacheAge } from '../screens/CacheAge.tsx';
import { useAlerts } from '../state/alerts.ts';
import { useMarket } from '../state/market.ts';
import { useUi } from '../state/ui.ts';
import {
  alertWhat,
  answerText,
  createdText,
  discardHeldAlert,
  useAlertHistory,
  useAlertList,
  useCreateAlert,
  useDeleteAlert,
  useHeldAlerts,
  useUpdateAlert,
} from './api.ts';
import { type AlertFields, DEFAULT_COOLDOWN_S, fieldsOf, readNewAlert, readPatch } from './draft.ts';
import { AlertFieldsEditor } from './Fields.tsx';
import {
  expiryText,
  firedAtText,
  firingValue,
  notifiedText,
  repeatText,
  type ShownStatus,
  statusText,
} from './words.ts';
import './alerts.css';

// The Alerts screen: a new alert, the user's alerts (with those held on this device until it is
// back online), and what fired, newest first. Made and evaluated by the server, so they fire
// with Tape closed; the screen only shows and edits them.

export function AlertsScreen() {
  return (
    <div className="alerts-screen">
      <CreateAlert />
      <AlertList />
      <AlertHistory />
    </div>
  );
}

const blank = (ticker: string): AlertFields => ({
  kind: 'price_above',
  ticker,
  threshold: '',
  events: ['filled', 'rejected'],
  repeat: false,
  cooldown: String(DEFAULT_COOLDOWN_S),
  expiry: 'session',
  expiryAt: '',
  note: '',
});

function CreateAlert() {
  const t = useT();
  const first = useMarket((s) => s.tickers[0]);
  const [f, setF] = useState<AlertFields>(() => blank(useUi.getState().ticker ?? first ?? ''));
  // The tickers come with the socket: a form opened before takes the first one then.
  useEffect(() => {
    if (first && !f.ticker && f.kind !== 'order') setF((x) => ({ ...x, ticker: first }));
  }, [first, f.ticker, f.kind]);
  const inst = useMarket((s) => s.instruments[f.ticker]);
  const last = useMarket((s) => s.quotes[f.ticker]?.last);
  const [verdict, setVerdict] = useState<{ ok: boolean; text: Text }>();
  const createAlert = useCreateAlert();
  const submit = () => {
    const read = readNewAlert(f, inst, last);
    if ('problem' in read) return setVerdict({ ok: false, text: read.problem });
    createAlert.mutate(read.value, {
      onSuccess: (c) => {
        setVerdict({ ok: c.kind === 'made', text: createdText(c) });
        setF((x) => ({ ...x, threshold: '', note: '' }));
      },
      onError: (err) => setVerdict({ ok: false, text: errorText(err) }),
    });
  };
  return (
    <section className="panel alert-create" aria-labelledby="alert-create-title">
      <h2 id="alert-create-title">{t('priceAlerts.newTitle')}</h2>
      <form
        className="alert-form"
        aria-labelledby="alert-create-title"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <AlertFieldsEditor
          f={f}
          making
          set={(patch) => {
            setF((x) => ({ ...x, ...patch }));
            setVerdict(undefined);
          }}
        />
        <button type="submit" className="primary" disabled={createAlert.isPending}>
          {t('priceAlerts.create')}
        </button>
        {verdict && (
          <p role={verdict.ok ? 'status' : 'alert'} className={`verdict ${verdict.ok ? 'ok' : 'error'}`}>
            {say(verdict.text)}
          </p>
        )}
      </form>
    </section>
  );
}

/** A column's header, and its class (numbers to the right). */
type Column = readonly [PlainId, string?];

const LIST_COLUMNS: readonly Column[] = [
  ['priceAlerts.col.alert'],
  ['priceAlerts.col.status'],
  ['priceAlerts.col.repeat'],
  ['priceAlerts.col.expiry'],
  ['priceAlerts.col.lastFired'],
  ['priceAlerts.col.count', 'num'],
  ['priceAlerts.col.actions', 'a-act'],
];
const HISTORY_COLUMNS: readonly Column[] = [
  ['priceAlerts.col.firedAt'],
  ['priceAlerts.col.alert'],
  ['priceAlerts.col.price', 'num'],
  ['priceAlerts.col.value', 'num'],
  ['priceAlerts.col.notified'],
];

function Heads({ columns }: { columns: readonly Column[] }) {
  const t = useT();
  const head = ([id, className]: Column) => (
    <th key={id} scope="col" className={className} children={t(id)} />
  );
  return (
    <thead>
      <tr>{columns.map(head)}</tr>
    </thead>
  );
}

function NotLoaded({ query }: { query: { isError: boolean; error: unknown } }) {
  const t = useT();
  if (!query.isError) return null;
  return (
    <p className="problem" role="alert">
      {t('priceAlerts.notLoaded', { reason: errorText(query.error) })}
    </p>
  );
}

/** A row's cells after its condition: the same columns for the server's alerts and held ones. */
function Cells({
  status,
  repeat,
  expiry,
  lastFired,
  fired,
}: {
  status: ShownStatus;
  repeat: Text;
  expiry: Text;
  lastFired: string | null;
  fired: number | null;
}) {
  const t = useT();
  return (
    <>
      <td className="a-status">
        <span className={`a-badge ${status}`}>{say(statusText(status))}</span>
      </td>
      <td className="a-repeat">{say(repeat)}</td>
      <td className="a-expiry" data-label={t('priceAlerts.col.expiry')}>
        {say(expiry)}
      </td>
      <td className="a-fired" data-label={t('priceAlerts.col.lastFired')}>
        {lastFired ? b3DateTime(lastFired) : '—'}
      </td>
      <td className="a-count num" data-label={t('priceAlerts.col.count')}>
        {fired === null ? '—' : quantity(fired)}
      </td>
    </>
  );
}

function AlertList() {
  const t = useT();
  const list = useAlertList();
  const held = useHeldAlerts((s) => s.held);
  const alerts = [...(list.data ?? [])].sort((a, b) => b.id - a.id);
  const count = alerts.length + held.length;
  return (
    <section className="panel alert-list" aria-labelledby="alert-list-title">
      <h2 id="alert-list-title">
        {t('priceAlerts.listTitle')}
        <small data-testid="alert-count">
          {t('priceAlerts.count', { n: count, max: MAX_ALERTS_PER_USER })}
        </small>
        <CacheAge query={list} />
      </h2>
      <NotLoaded query={list} />
      {count > 0 && (
        <table aria-labelledby="alert-list-title">
          <Heads columns={LIST_COLUMNS} />
          <tbody>
            {held.map((h) => (
              <HeldRow key={h.clientId} row={h} />
            ))}
            {alerts.map((a) => (
              <AlertRow key={a.id} a={a} />
            ))}
          </tbody>
        </table>
      )}
      {count === 0 && !list.isPending && <p className="muted">{t('priceAlerts.none')}</p>}
    </section>
  );
}

/** Made offline: not on the server yet, so not watched; it can only be dropped. */
function HeldRow({ row }: { row: HeldAlertRow }) {
  const t = useT();
  const a = row.alert;
  const order = a.kind === 'order';
  const repeat = a.repeat ?? order;
  const expiry =
    a.expiry?.kind === 'date'
      ? expiryText(a.expiry)
      : msg(a.expiry?.kind === 'never' ? 'priceAlerts.expiry.neverIs' : 'priceAlerts.expiry.sessionEnd');
  const what = say(alertWhat(a));
  return (
    <tr data-held={row.clientId} className="held">
      <th scope="row" className="a-what">
        {what}
        {a.note && <small className="a-note">{a.note}</small>}
      </th>
      <Cells
        status="held"
        repeat={repeatText({
          repeat,
          cooldownS: repeat ? (a.cooldownS ?? (order ? 0 : DEFAULT_COOLDOWN_S)) : 0,
        })}
        expiry={expiry}
        lastFired={null}
        fired={null}
      />
      <td className="a-act">
        <button
          type="button"
          className="small"
          aria-label={t('priceAlerts.discardFor', { what })}
          onClick={() => void discardHeldAlert(row.clientId)}
        >
          {t('priceAlerts.discard')}
        </button>
      </td>
    </tr>
  );
}

function AlertRow({ a }: { a: AlertJson }) {
  const t = useT();
  const [mode, setMode] = useState<'view' | 'edit' | 'delete'>('view');
  const [problem, setProblem] = useState<string>();
  const update = useUpdateAlert();
  const remove = useDeleteAlert();
  const what = say(alertWhat(a));
  const resume = a.status !== 'active';
  const onError = (err: unknown) => setProblem(errorText(err));
  const act = (f: () => void) => () => {
    setProblem(undefined);
    f();
  };
  return (
    <>
      <tr data-alert={a.id} className={a.status}>
        <th scope="row" className="a-what">
          {what}
          {a.note && <small className="a-note">{a.note}</small>}
        </th>
        <Cells
          status={a.status}
          repeat={repeatText(a)}
          expiry={expiryText(a.expiry)}
          lastFired={a.lastFiredAt}
          fired={a.fired}
        />
        <td className="a-act">
          {mode === 'delete' ? (
            <>
              <span className="a-ask">{t('priceAlerts.deleteAsk')}</span>
              <button
                type="button"
                className="small danger"
                aria-label={t('priceAlerts.deleteConfirmFor', { what })}
                disabled={remove.isPending}
                onClick={act(() => remove.mutate(a.id, { onError }))}
              >
                {t('priceAlerts.deleteConfirm')}
              </button>
              <button type="button" className="small" onClick={() => setMode('view')}>
                {t('priceAlerts.keep')}
              </button>
            </>
          ) : (
            <>
              <button
                type="button"
                className="small"
                aria-label={t(resume ? 'priceAlerts.resumeFor' : 'priceAlerts.pauseFor', { what })}
                disabled={update.isPending}
                onClick={act(() =>
                  update.mutate({ id: a.id, patch: { status: resume ? 'active' : 'paused' } }, { onError }),
                )}
              >
                {t(resume ? 'priceAlerts.resume' : 'priceAlerts.pause')}
              </button>
              <button
                type="button"
                className="small"
                aria-expanded={mode === 'edit'}
                aria-label={t('priceAlerts.editFor', { what })}
                onClick={act(() => setMode(mode === 'edit' ? 'view' : 'edit'))}
              >
                {t('priceAlerts.edit')}
              </button>
              <button
                type="button"
                className="small danger"
                aria-label={t('priceAlerts.deleteFor', { what })}
                onClick={act(() => setMode('delete'))}
              >
                {t('priceAlerts.delete')}
              </button>
            </>
          )}
        </td>
      </tr>
      {problem && (
        <tr className="a-detail">
          <td colSpan={7} className="problem" role="alert">
            {problem}
          </td>
        </tr>
      )}
      {mode === 'edit' && (
        <tr className="a-detail">
          <td colSpan={7}>
            <EditAlert a={a} what={what} done={() => setMode('view')} />
          </td>
        </tr>
      )}
    </>
  );
}

function EditAlert({ a, what, done }: { a: AlertJson; what: string; done(): void }) {
  const t = useT();
  const inst = useMarket((s) => (a.ticker ? s.instruments[a.ticker] : undefined));
  const last = useMarket((s) => (a.ticker ? s.quotes[a.ticker]?.last : undefined));
  const [f, setF] = useState(() => fieldsOf(a, inst?.priceDecimals ?? 2));
  const [problem, setProblem] = useState<Text>();
  const update = useUpdateAlert();
  const submit = () => {
    const read = readPatch(a, f, inst, last);
    if ('problem' in read) return setProblem(read.problem);
    if (Object.keys(read.value).length === 0) return done();
    update.mutate(
      { id: a.id, patch: read.value },
      {
        onSuccess: (answer) => {
          useAlerts.getState().push('info', answerText(answer, 'saved'));
          done();
        },
        onError: (err) => setProblem(errorText(err)),
      },
    );
  };
  return (
    <form
      className="alert-form edit"
      aria-label={t('priceAlerts.editFor', { what })}
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
      onKeyDown={(e) => {
        if (e.key === 'Escape') done();
      }}
    >
      <AlertFieldsEditor
        f={f}
        making={false}
        set={(patch) => {
          setF((x) => ({ ...x, ...patch }));
          setProblem(undefined);
        }}
      />
      {problem && (
        <p className="problem" role="alert">
          {say(problem)}
        </p>
      )}
      <div className="actions">
        <button type="submit" className="small primary" disabled={update.isPending}>
          {t('priceAlerts.save')}
        </button>
        <button type="button" className="small" onClick={done}>
          {t('priceAlerts.cancel')}
        </button>
      </div>
    </form>
  );
}

function AlertHistory() {
  const t = useT();
  const history = useAlertHistory();
  const instruments = useMarket((s) => s.instruments);
  const firings = history.data?.pages.flatMap((p) => p.firings) ?? [];
  return (
    <section className="panel alert-history" aria-labelledby="alert-history-title">
      <h2 id="alert-history-title">
        {t('priceAlerts.historyTitle')}
        <CacheAge query={history} />
      </h2>
      <NotLoaded query={history} />
      {firings.length > 0 && (
        <table aria-labelledby="alert-history-title">
          <Heads columns={HISTORY_COLUMNS} />
          <tbody>
            {firings.map((f) => (
              <tr key={f.id} data-firing={f.id}>
                <td className="time">{firedAtText(f.firedAt)}</td>
                <td className="h-what">
                  {say(
                    alertWhat({
                      kind: f.kind,
                      ticker: f.ticker,
                      threshold: f.threshold,
                      orderEvents: f.orderEvent ? [f.orderEvent] : null,
                    }),
                  )}
                </td>
                <td className="num" data-label={t('priceAlerts.col.price')}>
                  {price(f.price, (f.ticker && instruments[f.ticker]?.priceDecimals) || 2)}
                </td>
                <td className="num h-value">{say(firingValue(f))}</td>
                <td className={`h-notified ${f.notified}`}>{say(notifiedText(f.notified))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {firings.length === 0 && !history.isPending && <p className="muted">{t('priceAlerts.noHistory')}</p>}
      {history.hasNextPage && (
        <button
          type="button"
          className="small"
          disabled={history.isFetchingNextPage}
          onClick={() => void history.fetchNextPage()}
        >
          {t('priceAlerts.loadMore')}
        </button>
      )}
    </section>
  );
}
