import { useState } from 'react';
import type { AuditJson } from '../../sync-server/shared/admin.ts';
import { b3DateTime } from '../format.ts';
import { errorText, useT } from '../i18n/i18n.ts';
import { useAudit, useUsers } from './api.ts';
import { FilterForm, ListEnd } from './ListControls.tsx';
import { type AuditFilter, NO_AUDIT_FILTER } from './pages.ts';

/**
 * The actions the server records, as suggestions; one ending in `.` (`user.`) matches every
 * action that starts so.
 */
const ACTIONS = [
  'user.',
  'auth.',
  'auth.login',
  'auth.login_refused',
  'user.create',
  'user.role',
  'user.disable',
  'user.enable',
  'user.password_reset',
  'user.sign_out',
  'account.import',
  'setup.complete',
  'risk_config.update',
  'kill_switch.on',
  'kill_switch.off',
  'dead_letter.redrive',
];

/** A change in one line: what it was, what it became. */
function change(e: AuditJson): string {
  const show = (v: unknown) => (v === null || v === undefined ? '' : JSON.stringify(v));
  const before = show(e.before);
  const after = show(e.after);
  return before ? `${before} → ${after}` : after;
}

/** Admins: who did what to what, newest first. */
export function AuditScreen() {
  const [filter, setFilter] = useState<AuditFilter>(NO_AUDIT_FILTER);
  const pages = useAudit(filter);
  const users = useUsers();
  const t = useT();
  const entries = (pages.data?.pages ?? []).flatMap((p) => p.entries);
  return (
    <section className="panel admin-audit" aria-labelledby="audit-title">
      <h2 id="audit-title">
        {t('audit.title')}
        <button type="button" className="small secondary" onClick={() => void pages.refetch()}>
          {t('list.refresh')}
        </button>
      </h2>
      <FilterForm<AuditFilter>
        label={t('audit.filter')}
        filter={filter}
        empty={NO_AUDIT_FILTER}
        onApply={setFilter}
        fields={[
          { name: 'actor', label: t('audit.actor'), suggestions: (users.data ?? []).map((u) => u.username) },
          { name: 'action', label: t('audit.action'), suggestions: ACTIONS },
          { name: 'target', label: t('audit.target') },
          { name: 'from', label: t('audit.from'), kind: 'time' },
          { name: 'to', label: t('audit.to'), kind: 'time' },
        ]}
      />
      {pages.isError && <p className="problem">{errorText(pages.error)}</p>}
      <table className="cards" aria-label={t('audit.title')}>
        <thead>
          <tr>
            <th>{t('audit.when')}</th>
            <th>{t('audit.actor')}</th>
            <th>{t('audit.action')}</th>
            <th>{t('audit.target')}</th>
            <th>{t('audit.change')}</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.id}>
              <td data-label={t('audit.when')} className="time">
                {b3DateTime(e.at)}
              </td>
              <td data-label={t('audit.actor')}>{e.actor?.username ?? <span className="muted">—</span>}</td>
              <td data-label={t('audit.action')}>
                <b>{e.action}</b>
              </td>
              <td data-label={t('audit.target')}>{e.target}</td>
              <td data-label={t('audit.change')} className="wrap change">
                <code>{change(e)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ListEnd pages={pages} shown={entries.length} none={t('audit.none')} />
    </section>
  );
}
