import { useState } from 'react';
import type { AuditJson } from '../../sync-server/shared/admin.ts';
import { b3DateTime } from '../format.ts';
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
  const entries = (pages.data?.pages ?? []).flatMap((p) => p.entries);
  return (
    <section className="panel admin-audit" aria-labelledby="audit-title">
      <h2 id="audit-title">
        Audit trail
        <button type="button" className="small secondary" onClick={() => void pages.refetch()}>
          Refresh
        </button>
      </h2>
      <FilterForm<AuditFilter>
        label="Filter the audit trail"
        filter={filter}
        empty={NO_AUDIT_FILTER}
        onApply={setFilter}
        fields={[
          { name: 'actor', label: 'Actor', suggestions: (users.data ?? []).map((u) => u.username) },
          { name: 'action', label: 'Action', suggestions: ACTIONS },
          { name: 'target', label: 'Target' },
          { name: 'from', label: 'From', kind: 'time' },
          { name: 'to', label: 'To', kind: 'time' },
        ]}
      />
      {pages.isError && <p className="problem">{pages.error.message}</p>}
      <table className="cards" aria-label="Audit trail">
        <thead>
          <tr>
            <th>When</th>
            <th>Actor</th>
            <th>Action</th>
            <th>Target</th>
            <th>Change</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.id}>
              <td data-label="When" className="time">
                {b3DateTime(e.at)}
              </td>
              <td data-label="Actor">{e.actor?.username ?? <span className="muted">—</span>}</td>
              <td data-label="Action">
                <b>{e.action}</b>
              </td>
              <td data-label="Target">{e.target}</td>
              <td data-label="Change" className="wrap change">
                <code>{change(e)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ListEnd pages={pages} shown={entries.length} none="No entries match." />
    </section>
  );
}
