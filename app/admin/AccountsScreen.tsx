import type { AccountJson } from '../../sync-server/shared/admin.ts';
import { useAccounts } from '../api/admin.ts';
import { reais } from '../format.ts';
import { errorText, t, useT } from '../i18n/i18n.ts';
import { useUi } from '../state/ui.ts';

/** The limits a desk looks at first, in one line. */
function limits(a: AccountJson): string {
  const r = a.risk;
  return [
    t('accounts.perOrder', { n: r.maxOrderQty.toLocaleString('pt-BR') }),
    t('accounts.notional', { v: reais(r.maxOrderNotionalCents) }),
    t('accounts.loss', { v: reais(r.dailyLossLimitCents) }),
    `${r.ordersPerSecond}/s`,
  ].join(' · ');
}

/** Admins: every trading account, who trades it, its limits and its kill switch. */
export function AccountsScreen() {
  const accounts = useAccounts();
  const t = useT();
  return (
    <section className="panel admin-accounts" aria-labelledby="accounts-title">
      <h2 id="accounts-title">{t('accounts.title')}</h2>
      {accounts.isError && <p className="problem">{errorText(accounts.error)}</p>}
      <table className="cards" aria-label={t('accounts.title')}>
        <thead>
          <tr>
            <th>{t('accounts.account')}</th>
            <th>{t('accounts.broker')}</th>
            <th>{t('accounts.holder')}</th>
            <th>{t('accounts.users')}</th>
            <th>{t('accounts.limits')}</th>
            <th>{t('accounts.kill')}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(accounts.data ?? []).map((a) => (
            <tr key={a.id} data-account={a.id}>
              <th data-label={t('accounts.account')}>{a.id}</th>
              <td data-label={t('accounts.broker')}>
                <span>
                  {a.brokerName || t('accounts.brokerFallback')}{' '}
                  <small className="muted">#{a.brokerId}</small>
                </span>
              </td>
              <td data-label={t('accounts.holder')}>{a.holder || <span className="muted">—</span>}</td>
              <td data-label={t('accounts.users')}>
                {a.users.length ? (
                  a.users.map((u) => u.username).join(', ')
                ) : (
                  <span className="muted">{t('accounts.nobody')}</span>
                )}
              </td>
              <td data-label={t('accounts.limits')} className="wrap">
                <span>
                  {limits(a)}
                  {!a.riskSet && <small className="muted"> {t('accounts.defaults')}</small>}
                </span>
              </td>
              <td data-label={t('accounts.kill')}>
                {a.killSwitch ? (
                  <span className="badge bad">{t('accounts.on')}</span>
                ) : (
                  <span className="badge ok">{t('accounts.off')}</span>
                )}
              </td>
              <td data-label="">
                <button
                  type="button"
                  className="small secondary"
                  onClick={() => useUi.getState().showRisk(a.id)}
                >
                  {t('accounts.riskScreen')}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {accounts.data?.length === 0 && <p className="muted">{t('accounts.none')}</p>}
    </section>
  );
}
