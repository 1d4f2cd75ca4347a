import { useMutation } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import type { RiskConfig } from '../../sync-server/shared/orders.ts';
import { useAccounts } from '../api/admin.ts';
import { api } from '../api/client.ts';
import { keys } from '../api/keys.ts';
import { queryClient } from '../api/queryClient.ts';
import { parseReais, reais, reaisInput } from '../format.ts';
import { useRiskConfig } from '../orders/api.ts';
import { useUi } from '../state/ui.ts';

type Limits = Omit<RiskConfig, 'killSwitch'>;
const FIELDS: ReadonlyArray<[keyof Limits, string, 'cents' | 'plain']> = [
  ['maxOrderQty', 'Max quantity per order', 'plain'],
  ['maxOrderNotionalCents', 'Max notional per order (R$)', 'cents'],
  ['maxPositionQty', 'Max position per instrument', 'plain'],
  ['maxOpenOrders', 'Max open orders', 'plain'],
  ['dailyLossLimitCents', 'Daily loss limit (R$)', 'cents'],
  ['priceBandPct', 'Price band around last (%)', 'plain'],
  ['ordersPerSecond', 'Orders per second', 'plain'],
  ['orderBurst', 'Order burst', 'plain'],
];

type RiskResponse = { account: string; config: RiskConfig };

/**
 * A change shows at once and is rolled back, with the server's reason, if the server refuses it
 * (TanStack's onMutate snapshot / onError restore).
 */
function useRiskChange(account: string, send: (next: RiskConfig) => Promise<unknown>) {
  const key = keys.riskConfig(account);
  return useMutation({
    mutationFn: send,
    onMutate: async (next: RiskConfig) => {
      await queryClient.cancelQueries({ queryKey: key });
      const before = queryClient.getQueryData<RiskResponse>(key);
      queryClient.setQueryData<RiskResponse>(key, { account, config: next });
      return { before };
    },
    onError: (_err, _next, ctx) => queryClient.setQueryData(key, ctx?.before),
    onSettled: () => queryClient.invalidateQueries({ queryKey: key }),
  });
}

/** Admins: each account's limits and its kill switch. */
export function RiskPanel() {
  const accounts = useAccounts();
  // The Accounts screen's "Risk" link opens on its account.
  const [account, setAccount] = useState(useUi.getState().riskAccount);
  const chosen = account ?? accounts.data?.[0]?.id;
  return (
    <section className="panel risk" aria-labelledby="risk-title">
      <h2 id="risk-title">Risk</h2>
      {accounts.isError && <p className="problem">{accounts.error.message}</p>}
      <label>
        Account
        <select value={chosen ?? ''} onChange={(e) => setAccount(e.target.value)}>
          {(accounts.data ?? []).map((a) => (
            <option key={a.id} value={a.id}>
              {a.id} — {a.holder || a.brokerName || `broker ${a.brokerId}`}
            </option>
          ))}
        </select>
      </label>
      {chosen ? <AccountRisk key={chosen} account={chosen} /> : <p className="muted">No accounts yet.</p>}
    </section>
  );
}

function AccountRisk({ account }: { account: string }) {
  const q = useRiskConfig(account);
  const config = q.data?.config;
  const [draft, setDraft] = useState<Record<string, string>>({});
  useEffect(() => {
    // Money in reais as B3 writes them (50.000,00); the API keeps centavos.
    if (config)
      setDraft(
        Object.fromEntries(
          FIELDS.map(([k, , kind]) => [k, kind === 'cents' ? reaisInput(config[k]) : String(config[k])]),
        ),
      );
  }, [config]);
  const save = useRiskChange(account, ({ killSwitch: _k, ...limits }) =>
    api(`/api/v1/risk/config/${account}`, { method: 'PUT', body: limits }),
  );
  const kill = useRiskChange(account, (next) =>
    api(`/api/v1/risk/kill-switch/${account}`, { body: { on: next.killSwitch, cancelAll: next.killSwitch } }),
  );
  if (!config) return <p className="muted">{q.isError ? q.error.message : 'Loading…'}</p>;
  const read = (k: keyof Limits, kind: 'cents' | 'plain') =>
    kind === 'cents' ? parseReais(draft[k] ?? '') : Number(draft[k]);
  const next = {
    ...config,
    ...Object.fromEntries(FIELDS.map(([k, , kind]) => [k, read(k, kind)])),
  } as RiskConfig;
  const unreadable = FIELDS.filter(([k, , kind]) => kind === 'cents' && Number.isNaN(read(k, kind)));
  const error = save.error ?? kill.error;
  return (
    <>
      <div className={`kill ${config.killSwitch ? 'on' : ''}`}>
        <b>Kill switch {config.killSwitch ? 'ON: new orders are refused' : 'off'}</b>
        <button
          type="button"
          className={config.killSwitch ? '' : 'danger'}
          onClick={() => kill.mutate({ ...config, killSwitch: !config.killSwitch })}
        >
          {config.killSwitch ? 'Release kill switch' : 'Kill switch: block and cancel all'}
        </button>
      </div>
      <form
        className="limits"
        onSubmit={(e) => {
          e.preventDefault();
          if (unreadable.length === 0) save.mutate(next);
        }}
      >
        {FIELDS.map(([k, label, kind]) => (
          <label key={k}>
            {label}
            <input
              inputMode="decimal"
              value={draft[k] ?? ''}
              onChange={(e) => setDraft({ ...draft, [k]: e.target.value })}
            />
            {kind === 'cents' && (
              <small className={Number.isNaN(read(k, kind)) ? 'problem' : undefined}>
                {Number.isNaN(read(k, kind)) ? 'Type reais, e.g. 50.000,00' : reais(read(k, kind))}
              </small>
            )}
          </label>
        ))}
        <button type="submit" disabled={save.isPending || unreadable.length > 0}>
          Save limits
        </button>
        {error && (
          <p role="alert" className="problem">
            Not saved, rolled back: {error.message}
          </p>
        )}
      </form>
    </>
  );
}
