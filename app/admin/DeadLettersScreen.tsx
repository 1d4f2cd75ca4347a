import { Fragment, useState } from 'react';
import type { DeadLetterJson, RedriveOutcome } from '../../sync-server/shared/admin.ts';
import { b3DateTime } from '../format.ts';
import { useDeadLetters, useRedrive } from './api.ts';
import { FilterForm, ListEnd } from './ListControls.tsx';
import { LETTER_STATUSES, type LetterFilter, NO_LETTER_FILTER, outcomeText } from './pages.ts';

/** Admins: the letters the feed and the writer could not take, and their redrive. */
export function DeadLettersScreen() {
  const [filter, setFilter] = useState<LetterFilter>(NO_LETTER_FILTER);
  const pages = useDeadLetters(filter);
  const redrive = useRedrive(filter);
  const [selected, setSelected] = useState<ReadonlySet<number>>(new Set());
  const [open, setOpen] = useState<ReadonlySet<number>>(new Set());
  // What the last redrive of each letter did, said on its row.
  const [outcomes, setOutcomes] = useState<ReadonlyMap<number, RedriveOutcome>>(new Map());

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
        Dead letters
        {first && <small className="muted">{first.open.toLocaleString('pt-BR')} open</small>}
        <button type="button" className="small secondary" onClick={() => void pages.refetch()}>
          Refresh
        </button>
      </h2>
      <p className="hint">
        Market events that failed validation and trade batches the database did not take. A redrive runs a
        letter through validation (or the writer) again: it is resolved when it passes.
      </p>
      <FilterForm<LetterFilter>
        label="Filter dead letters"
        filter={filter}
        empty={NO_LETTER_FILTER}
        onApply={apply}
        fields={[
          { name: 'source', label: 'Source', suggestions: [...new Set(counts.map((c) => c.source))] },
          { name: 'reason', label: 'Reason', suggestions: [...new Set(counts.map((c) => c.reason))] },
          { name: 'from', label: 'From', kind: 'time' },
          { name: 'to', label: 'To', kind: 'time' },
          { name: 'status', label: 'Status', options: LETTER_STATUSES },
        ]}
      />
      {counts.length > 0 && (
        <ul className="chips" aria-label="Open letters per reason">
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
          {redrive.isPending ? 'Redriving…' : `Redrive selected (${chosen.length})`}
        </button>
        {redrive.isError && (
          <p role="alert" className="problem">
            Not redriven: {redrive.error.message}
          </p>
        )}
      </div>
      {pages.isError && <p className="problem">{pages.error.message}</p>}
      <table className="cards letters" aria-label="Dead letters">
        <thead>
          <tr>
            <th>
              <input
                type="checkbox"
                aria-label="Select every open letter shown"
                checked={selectable.length > 0 && chosen.length === selectable.length}
                onChange={(e) => setSelected(e.target.checked ? new Set(selectable) : new Set())}
              />
            </th>
            <th className="num">#</th>
            <th>Source</th>
            <th>Reason</th>
            <th className="num">Attempts</th>
            <th>Last seen</th>
            <th>Status</th>
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
                      {l.detail} · first seen {b3DateTime(l.firstSeen)}
                      {l.resolvedAt && ` · resolved ${b3DateTime(l.resolvedAt)} (${l.resolution})`}
                    </p>
                    <pre>{JSON.stringify(l.payload, null, 2)}</pre>
                  </td>
                </tr>
              )}
            </Fragment>
          ))}
        </tbody>
      </table>
      <ListEnd pages={pages} shown={letters.length} none="No letters match." />
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
  const resolved = l.resolvedAt !== null;
  return (
    <tr data-letter={l.id} className={resolved ? 'resolved' : undefined}>
      <td data-label="Select">
        <input
          type="checkbox"
          aria-label={`Select letter ${l.id}`}
          checked={selected && !resolved}
          disabled={resolved}
          onChange={onSelect}
        />
      </td>
      <td data-label="#" className="num">
        {l.id}
      </td>
      <td data-label="Source">{l.source}</td>
      <td data-label="Reason" className="wrap">
        <span>
          <b>{l.reason}</b>
          {outcome && (
            <span className={`outcome ${outcome.outcome === 'redriven' ? 'ok' : 'bad'}`} role="status">
              {outcomeText(outcome)}
            </span>
          )}
        </span>
      </td>
      <td data-label="Attempts" className="num">
        {l.attempts}
      </td>
      <td data-label="Last seen" className="time">
        {b3DateTime(l.lastSeen)}
      </td>
      <td data-label="Status">
        {resolved ? (
          <span className="badge ok">{l.resolution ?? 'resolved'}</span>
        ) : (
          <span className="badge warn">open</span>
        )}
      </td>
      <td data-label="" className="actions">
        <div className="row-actions">
          <button type="button" className="small secondary" aria-expanded={expanded} onClick={onExpand}>
            {expanded ? 'Hide payload' : 'Payload'}
          </button>
          <button type="button" className="small" disabled={busy || resolved} onClick={onRedrive}>
            Redrive
          </button>
        </div>
      </td>
    </tr>
  );
}
