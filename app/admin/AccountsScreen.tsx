import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { AccountJson, BrokerAccountJson } from '../../sync-server/shared/admin.ts';
import { useAccounts, useSetup } from '../api/admin.ts';
import { api } from '../api/client.ts';
import { keys } from '../api/keys.ts';
import { reais } from '../format.ts';
import { errorText, t, useT } from '../i18n/i18n.ts';
import { useUi } from '../state/ui.ts';
import { brokerView } from './brokerAccounts.ts';
import { importBody, notImportable } from './firstRun.ts';

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

/**
 * Admins: every trading account, who trades it, its limits and its kill switch; beside them the
 * broker's: accounts it reports that Tape lacks are offered, Tape's it no longer reports flagged.
 */
export function AccountsScreen() {
  const accounts = useAccounts();
  const setup = useSetup(true);
  const t = useT();
  const view = brokerView(accounts.data ?? [], setup.data?.brokerAccounts);
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
              <th data-label={t('accounts.account')}>
                {a.id}
                {view.vanished.has(a.id) && (
                  <small className="badge bad" title={t('accounts.vanishedHint')} data-testid="vanished">
                    {t('accounts.vanished')}
                  </small>
                )}
              </th>
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
      {view.offered.length > 0 && <Offered list={view.offered} />}
    </section>
  );
}

/** Accounts the broker reports for this login that Tape does not have: imported one at a time. */
function Offered({ list }: { list: readonly BrokerAccountJson[] }) {
  const t = useT();
  const client = useQueryClient();
  const add = useMutation({
    mutationFn: (a: BrokerAccountJson) => api('/api/v1/setup/accounts', { body: importBody([a]) }),
    onSuccess: () =>
      Promise.all([
        client.invalidateQueries({ queryKey: keys.accounts() }),
        client.invalidateQueries({ queryKey: keys.setup() }),
      ]),
  });
  return (
    <div className="offered" data-testid="offered">
      <h3>{t('accounts.offered')}</h3>
      <p className="hint">{t('accounts.offeredHint')}</p>
      <ul>
        {list.map((a) => {
          const why = notImportable(a);
          return (
            <li key={`${a.brokerId}/${a.accountId}/${a.subAccountId}`} data-offered={a.accountId}>
              <b>{a.subAccountId ? `${a.accountId}/${a.subAccountId}` : a.accountId}</b> · {a.brokerName}{' '}
              <small className="muted">#{a.brokerId}</small> · {a.holder}{' '}
              {why ? (
                <small className="muted">{why}</small>
              ) : (
                <button
                  type="button"
                  className="small"
                  disabled={add.isPending}
                  onClick={() => add.mutate(a)}
                >
                  {t('accounts.import')}
                </button>
              )}
            </li>
          );
        })}
      </ul>
      {add.isError && <p className="problem">{errorText(add.error)}</p>}
    </div>
  );
}
