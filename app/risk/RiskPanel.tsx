import { useMutation } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import type { RiskConfig } from '../../sync-server/shared/orders.ts';
import { useAccounts } from '../api/admin.ts';
import { api } from '../api/client.ts';
import { keys } from '../api/keys.ts';
import { queryClient } from '../api/queryClient.ts';
import { parseReais, reais, reaisInput } from '../format.ts';
import { errorText, type PlainId, useT } from '../i18n/i18n.ts';
import { useRiskConfig } from '../orders/api.ts';
import { useUi } from '../state/ui.ts';

type Limits = Omit<RiskConfig, 'killSwitch'>;
const FIELDS: ReadonlyArray<[keyof Limits, PlainId, 'cents' | 'plain']> = [
  ['maxOrderQty', 'risk.maxOrderQty', 'plain'],
  ['maxOrderNotionalCents', 'risk.maxOrderNotional', 'cents'],
  ['maxPositionQty', 'risk.maxPositionQty', 'plain'],
  ['maxOpenOrders', 'risk.maxOpenOrders', 'plain'],
  ['dailyLossLimitCents', 'risk.dailyLossLimit', 'cents'],
  ['priceBandPct', 'risk.priceBand', 'plain'],
  ['ordersPerSecond', 'risk.ordersPerSecond', 'plain'],
  ['orderBurst', 'risk.orderBurst', 'plain'],
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
  const t = useT();
  // The Accounts screen's "Risk" link opens on its account.
  const [account, setAccount] = useState(useUi.getState().riskAccount);
  const chosen = account ?? accounts.data?.[0]?.id;
  return (
    <section className="panel risk" aria-labelledby="risk-title">
      <h2 id="risk-title">{t('risk.title')}</h2>
      {accounts.isError && <p className="problem">{errorText(accounts.error)}</p>}
      <label>
        {t('risk.account')}
        <select value={chosen ?? ''} onChange={(e) => setAccount(e.target.value)}>
          {(accounts.data ?? []).map((a) => (
            <option key={a.id} value={a.id}>
              {a.id} — {a.holder || a.brokerName || t('risk.broker', { id: a.brokerId })}
            </option>
          ))}
        </select>
      </label>
      {chosen ? (
        <AccountRisk key={chosen} account={chosen} />
      ) : (
        <p className="muted">{t('risk.noAccounts')}</p>
      )}
    </section>
  );
}

function AccountRisk({ account }: { account: string }) {
  const q = useRiskConfig(account);
  const t = useT();
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
  if (!config) return <p className="muted">{q.isError ? errorText(q.error) : t('common.loading')}</p>;
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
        <b>{config.killSwitch ? t('risk.killOn') : t('risk.killOff')}</b>
        <button
          type="button"
          className={config.killSwitch ? '' : 'danger'}
          onClick={() => kill.mutate({ ...config, killSwitch: !config.killSwitch })}
        >
          {config.killSwitch ? t('risk.release') : t('risk.kill')}
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
            {t(label)}
            <input
              inputMode="decimal"
              value={draft[k] ?? ''}
              onChange={(e) => setDraft({ ...draft, [k]: e.target.value })}
            />
            {kind === 'cents' && (
              <small className={Number.isNaN(read(k, kind)) ? 'problem' : undefined}>
                {Number.isNaN(read(k, kind)) ? t('risk.typeReais') : reais(read(k, kind))}
              </small>
            )}
          </label>
        ))}
        <button type="submit" disabled={save.isPending || unreadable.length > 0}>
          {t('risk.save')}
        </button>
        {error && (
          <p role="alert" className="problem">
            {t('risk.rolledBack', { reason: errorText(error) })}
          </p>
        )}
      </form>
    </>
  );
}
