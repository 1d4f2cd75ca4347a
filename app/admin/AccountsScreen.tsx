import type { AccountJson } from '../../sync-server/shared/admin.ts';
import { useAccounts } from '../api/admin.ts';
import { reais } from '../format.ts';
import { useUi } from '../state/ui.ts';

/** The limits a desk looks at first, in one line. */
function limits(a: AccountJson): string {
  const r = a.risk;
  return [
    `${r.maxOrderQty.toLocaleString('pt-BR')} per order`,
    `${reais(r.maxOrderNotionalCents)} notional`,
    `loss ${reais(r.dailyLossLimitCents)}/day`,
    `${r.ordersPerSecond}/s`,
  ].join(' · ');
}

/** Admins: every trading account, who trades it, its limits and its kill switch. */
export function AccountsScreen() {
  const accounts = useAccounts();
  return (
    <section className="panel admin-accounts" aria-labelledby="accounts-title">
      <h2 id="accounts-title">Trading accounts</h2>
      {accounts.isError && <p className="problem">{accounts.error.message}</p>}
      <table className="cards" aria-label="Trading accounts">
        <thead>
          <tr>
            <th>Account</th>
            <th>Broker</th>
            <th>Holder</th>
            <th>Users</th>
            <th>Risk limits</th>
            <th>Kill switch</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(accounts.data ?? []).map((a) => (
            <tr key={a.id} data-account={a.id}>
              <th data-label="Account">{a.id}</th>
              <td data-label="Broker">
                <span>
                  {a.brokerName || 'broker'} <small className="muted">#{a.brokerId}</small>
                </span>
              </td>
              <td data-label="Holder">{a.holder || <span className="muted">—</span>}</td>
              <td data-label="Users">
                {a.users.length ? (
                  a.users.map((u) => u.username).join(', ')
                ) : (
                  <span className="muted">nobody</span>
                )}
              </td>
              <td data-label="Risk limits" className="wrap">
                <span>
                  {limits(a)}
                  {!a.riskSet && <small className="muted"> (defaults)</small>}
                </span>
              </td>
              <td data-label="Kill switch">
                {a.killSwitch ? <span className="badge bad">ON</span> : <span className="badge ok">off</span>}
              </td>
              <td data-label="">
                <button
                  type="button"
                  className="small secondary"
                  onClick={() => useUi.getState().showRisk(a.id)}
                >
                  Risk screen
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {accounts.data?.length === 0 && (
        <p className="muted">No trading accounts yet: the first run imports those the broker reports.</p>
      )}
    </section>
  );
}
