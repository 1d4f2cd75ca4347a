import { Fragment, useState } from 'react';
import type { DeadLetterJson, RedriveOutcome } from '../../sync-server/shared/admin.ts';
import { b3DateTime } from '../format.ts';
import { errorText, useT } from '../i18n/i18n.ts';
import { useDeadLetters, useRedrive } from './api.ts';
import { FilterForm, ListEnd } from './ListControls.tsx';
import {
  LETTER_STATUSES,
  type LetterFilter,
  type LetterStatus,
  NO_LETTER_FILTER,
  outcomeText,
} from './pages.ts';

/** Admins: the letters the feed and the writer could not take, and their redrive. */
export function DeadLettersScreen() {
  const [filter, setFilter] = useState<LetterFilter>(NO_LETTER_FILTER);
  const pages = useDeadLetters(filter);
  const redrive = useRedrive(filter);
  const [selected, setSelected] = useState<ReadonlySet<number>>(new Set());
  const [open, setOpen] = useState<ReadonlySet<number>>(new Set());
  // What the last redrive of each letter did, said on its row.
  const [outcomes, setOutcomes] = useState<ReadonlyMap<number, RedriveOutcome>>(new Map());
  const t = useT();

  const first = pages.data?.pages[0];
  const counts = first?.counts ?? [];
  const letters = (pages.data?.pages ?? []).flatMap((p) => p.letters);
  const selectable = letters.filter((l) => l.resolvedAt === null).map((l) => l.id);
  const chosen = selectable.filter((id) => selected.has(id));

  const apply = (next: LetterFilter) => {
    setFilter(next);
    setSelected(new Set());
  };
  const send = (ids: readonly number[]) =>
    redrive.mutate(ids, {
      onSuccess: (list) => {
        setOutcomes((prev) => new Map([...prev, ...list.map((o) => [o.id, o] as const)]));
        setSelected((prev) => new Set([...prev].filter((id) => !ids.includes(id))));
      },
    });
  const toggle = <T,>(set: ReadonlySet<T>, v: T): Set<T> => {
    const next = new Set(set);
    if (!next.delete(v)) next.add(v);
    return next;
  };

  return (
    <section className="panel admin-letters" aria-labelledby="letters-title">
      <h2 id="letters-title">
        {t('letters.title')}
        {first && (
          <small className="muted">{t('letters.open', { n: first.open.toLocaleString('pt-BR') })}</small>
        )}
        <button type="button" className="small secondary" onClick={() => void pages.refetch()}>
          {t('list.refresh')}
        </button>
      </h2>
      <p className="hint">{t('letters.hint')}</p>
      <FilterForm<LetterFilter>
        label={t('letters.filter')}
        filter={filter}
        empty={NO_LETTER_FILTER}
        onApply={apply}
        fields={[
          {
            name: 'source',
            label: t('letters.source'),
            suggestions: [...new Set(counts.map((c) => c.source))],
          },
          {
            name: 'reason',
            label: t('letters.reason'),
            suggestions: [...new Set(counts.map((c) => c.reason))],
          },
          { name: 'from', label: t('audit.from'), kind: 'time' },
          { name: 'to', label: t('audit.to'), kind: 'time' },
          {
            name: 'status',
            label: t('letters.status'),
            options: LETTER_STATUSES,
            optionLabel: (s) => t(`letters.status.${s as LetterStatus}`),
          },
        ]}
      />
      {counts.length > 0 && (
        <ul className="chips" aria-label={t('letters.perReason')}>
          {counts.map((c) => (
            <li key={`${c.source} ${c.reason}`}>
              <button
                type="button"
                className="chip"
                aria-pressed={filter.source === c.source && filter.reason === c.reason}
                onClick={() => apply({ ...filter, source: c.source, reason: c.reason })}
              >
                {c.reason} <small>{c.source}</small> <b>{c.count.toLocaleString('pt-BR')}</b>
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="toolbar">
        <button
          type="button"
          disabled={chosen.length === 0 || redrive.isPending}
          onClick={() => send(chosen)}
        >
          {redrive.isPending ? t('letters.redriving') : t('letters.redriveSelected', { n: chosen.length })}
        </button>
        {redrive.isError && (
          <p role="alert" className="problem">
            {t('letters.notRedriven', { reason: errorText(redrive.error) })}
          </p>
        )}
      </div>
      {pages.isError && <p className="problem">{errorText(pages.error)}</p>}
      <table className="cards letters" aria-label={t('letters.table')}>
        <thead>
          <tr>
            <th>
              <input
                type="checkbox"
                aria-label={t('letters.selectAll')}
                checked={selectable.length > 0 && chosen.length === selectable.length}
                onChange={(e) => setSelected(e.target.checked ? new Set(selectable) : new Set())}
              />
            </th>
            <th className="num">#</th>
            <th>{t('letters.source')}</th>
            <th>{t('letters.reason')}</th>
            <th className="num">{t('letters.attempts')}</th>
            <th>{t('letters.lastSeen')}</th>
            <th>{t('letters.status')}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {letters.map((l) => (
            <Fragment key={l.id}>
              <LetterRow
                letter={l}
                outcome={outcomes.get(l.id)}
                selected={selected.has(l.id)}
                expanded={open.has(l.id)}
                busy={redrive.isPending}
                onSelect={() => setSelected((s) => toggle(s, l.id))}
                onExpand={() => setOpen((s) => toggle(s, l.id))}
                onRedrive={() => send([l.id])}
              />
              {open.has(l.id) && (
                <tr className="detail">
                  <td colSpan={8}>
                    <p>
                      {l.detail} · {t('letters.firstSeen', { time: b3DateTime(l.firstSeen) })}
                      {l.resolvedAt &&
                        ` · ${t('letters.resolvedAt', { time: b3DateTime(l.resolvedAt), resolution: l.resolution ?? '' })}`}
                    </p>
                    <pre>{JSON.stringify(l.payload, null, 2)}</pre>
                  </td>
                </tr>
              )}
            </Fragment>
          ))}
        </tbody>
      </table>
      <ListEnd pages={pages} shown={letters.length} none={t('letters.none')} />
    </section>
  );
}

function LetterRow({
  letter: l,
  outcome,
  selected,
  expanded,
  busy,
  onSelect,
  onExpand,
  onRedrive,
}: {
  letter: DeadLetterJson;
  outcome: RedriveOutcome | undefined;
  selected: boolean;
  expanded: boolean;
  busy: boolean;
  onSelect(): void;
  onExpand(): void;
  onRedrive(): void;
}) {
  const t = useT();
  const resolved = l.resolvedAt !== null;
  return (
    <tr data-letter={l.id} className={resolved ? 'resolved' : undefined}>
      <td data-label={t('letters.select')}>
        <input
          type="checkbox"
          aria-label={t('letters.selectOne', { id: l.id })}
          checked={selected && !resolved}
          disabled={resolved}
          onChange={onSelect}
        />
      </td>
      <td data-label="#" className="num">
        {l.id}
      </td>
      <td data-label={t('letters.source')}>{l.source}</td>
      <td data-label={t('letters.reason')} className="wrap">
        <span>
          <b>{l.reason}</b>
          {outcome && (
            <span className={`outcome ${outcome.outcome === 'redriven' ? 'ok' : 'bad'}`} role="status">
              {outcomeText(outcome)}
            </span>
          )}
        </span>
      </td>
      <td data-label={t('letters.attempts')} className="num">
        {l.attempts}
      </td>
      <td data-label={t('letters.lastSeen')} className="time">
        {b3DateTime(l.lastSeen)}
      </td>
      <td data-label={t('letters.status')}>
        {resolved ? (
          <span className="badge ok">{l.resolution ?? t('letters.resolved')}</span>
        ) : (
          <span className="badge warn">{t('letters.isOpen')}</span>
        )}
      </td>
      <td data-label="" className="actions">
        <div className="row-actions">
          <button type="button" className="small secondary" aria-expanded={expanded} onClick={onExpand}>
            {expanded ? t('letters.hidePayload') : t('letters.payload')}
          </button>
          <button type="button" className="small" disabled={busy || resolved} onClick={onRedrive}>
            {t('letters.redrive')}
          </button>
        </div>
      </td>
    </tr>
  );
}
