import type { ReactNode } from 'react';
import { type PlainId, useT } from '../i18n/i18n.ts';
import { type AdminSection, useUi } from '../state/ui.ts';
import { AccountsScreen } from './AccountsScreen.tsx';
import { AuditScreen } from './AuditScreen.tsx';
import { CostsScreen } from './CostsScreen.tsx';
import { DeadLettersScreen } from './DeadLettersScreen.tsx';
import { HealthScreen } from './HealthScreen.tsx';
import { UsersScreen } from './UsersScreen.tsx';
import './admin.css';

const SECTIONS: ReadonlyArray<[AdminSection, PlainId]> = [
  ['users', 'admin.users'],
  ['accounts', 'admin.accounts'],
  ['costs', 'admin.costs'],
  ['deadLetters', 'admin.deadLetters'],
  ['audit', 'admin.audit'],
  ['health', 'admin.health'],
];

/** Admins: users, trading accounts, their costs, dead letters, the audit trail and the feed's health. */
export function AdminScreen() {
  const section = useUi((s) => s.adminSection);
  const t = useT();
  return (
    <div className="admin">
      <nav className="admin-nav" aria-label={t('admin.nav')}>
        {SECTIONS.map(([s, label]) => (
          <button
            key={s}
            type="button"
            aria-current={section === s ? 'page' : undefined}
            onClick={() => useUi.getState().setAdminSection(s)}
          >
            {t(label)}
          </button>
        ))}
      </nav>
      <Section section={section} />
    </div>
  );
}

function Section({ section }: { section: AdminSection }): ReactNode {
  switch (section) {
    case 'users':
      return <UsersScreen />;
    case 'accounts':
      return <AccountsScreen />;
    case 'costs':
      return <CostsScreen />;
    case 'deadLetters':
      return <DeadLettersScreen />;
    case 'audit':
      return <AuditScreen />;
    case 'health':
      return <HealthScreen />;
  }
}
