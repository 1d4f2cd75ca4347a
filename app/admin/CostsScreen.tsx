import { useEffect, useState } from 'react';
import type { CostSchedule } from '../../sync-server/shared/orders.ts';
import { useAccounts } from '../api/admin.ts';
import { b3DateTime, parsePercentPpm, parseReais, percentOfPpm, reais, reaisInput } from '../format.ts';
import { errorText, useT } from '../i18n/i18n.ts';
import { useCosts, useSetCosts } from './api.ts';

/** Admins: what each account's fills are charged, typed in reais and percent (stored exactly). */
export function CostsScreen() {
  const accounts = useAccounts();
  const t = useT();
  const [account, setAccount] = useState<string>();
  const chosen = account ?? accounts.data?.[0]?.id;
  return (
    <section className="panel admin-costs" aria-labelledby="costs-title">
      <h2 id="costs-title">{t('costs.title')}</h2>
      <p className="muted">{t('costs.explain')}</p>
      {accounts.isError && <p className="problem">{errorText(accounts.error)}</p>}
      <label>
        {t('costs.account')}
        <select value={chosen ?? ''} onChange={(e) => setAccount(e.target.value)}>
          {(accounts.data ?? []).map((a) => (
            <option key={a.id} value={a.id}>
              {a.id}
              {a.holder ? ` — ${a.holder}` : ''}
            </option>
          ))}
        </select>
      </label>
      {chosen ? (
        <AccountCosts key={chosen} account={chosen} />
      ) : (
        <p className="muted">{t('costs.noAccounts')}</p>
      )}
    </section>
  );
}

interface Draft {
  brokerage: CostSchedule['brokerage'];
  brokerage$: string;
  equities: string;
  futures$: string;
}

const draftOf = (s: CostSchedule): Draft => ({
  brokerage: s.brokerage,
  brokerage$: reaisInput(s.brokerageCents),
  equities: percentOfPpm(s.equitiesFeePpm),
  futures$: reaisInput(s.futuresFeeCents),
});

function AccountCosts({ account }: { account: string }) {
  const q = useCosts(account);
  const save = useSetCosts(account);
  const t = useT();
  const [draft, setDraft] = useState<Draft>();
  useEffect(() => {
    if (q.data) setDraft(draftOf(q.data.schedule));
  }, [q.data]);
  if (!q.data || !draft)
    return <p className="muted">{q.isError ? errorText(q.error) : t('common.loading')}</p>;
  const next = {
    brokerage: draft.brokerage,
    brokerageCents: parseReais(draft.brokerage$),
    equitiesFeePpm: parsePercentPpm(draft.equities),
    futuresFeeCents: parseReais(draft.futures$),
  };
  const unreadable = [next.brokerageCents, next.equitiesFeePpm, next.futuresFeeCents].some(Number.isNaN);
  // A typed field, and under it how it reads (or how to type it, when it does not read).
  const field = (
    key: 'brokerage$' | 'equities' | 'futures$',
    label: string,
    read: number,
    how: string,
    reads: string,
  ) => (
    <label>
      {label}
      <input
        inputMode="decimal"
        value={draft[key]}
        onChange={(e) => setDraft({ ...draft, [key]: e.target.value })}
      />
      <small className={Number.isNaN(read) ? 'problem' : undefined}>{Number.isNaN(read) ? how : reads}</small>
    </label>
  );
  return (
    <form
      className="limits costs"
      onSubmit={(e) => {
        e.preventDefault();
        if (!unreadable) save.mutate(next as CostSchedule);
      }}
    >
      <p className="muted full-row" data-testid="costs-since">
        {q.data.set && q.data.since
          ? t('costs.since', { when: b3DateTime(q.data.since) })
          : t('costs.defaults')}
      </p>
      <fieldset className="choice">
        <legend>{t('costs.brokerage')}</legend>
        {(['per_order', 'per_unit'] as const).map((mode) => (
          <label key={mode}>
            <input
              type="radio"
              name="brokerage"
              checked={draft.brokerage === mode}
              onChange={() => setDraft({ ...draft, brokerage: mode })}
            />
            {mode === 'per_order' ? t('costs.perOrder') : t('costs.perUnit')}
          </label>
        ))}
      </fieldset>
      {field(
        'brokerage$',
        draft.brokerage === 'per_order' ? t('costs.brokerageOrder') : t('costs.brokerageUnit'),
        next.brokerageCents,
        t('risk.typeReais'),
        reais(next.brokerageCents),
      )}
      {field(
        'equities',
        t('costs.equities'),
        next.equitiesFeePpm,
        t('costs.typePercent'),
        t('costs.equitiesExample', { v: reais(next.equitiesFeePpm) }),
      )}
      {field(
        'futures$',
        t('costs.futures'),
        next.futuresFeeCents,
        t('risk.typeReais'),
        reais(next.futuresFeeCents),
      )}
      <button type="submit" disabled={save.isPending || unreadable}>
        {t('costs.save')}
      </button>
      {save.isSuccess && !save.isPending && (
        <p role="status" className="full-row">
          {t('costs.saved')}
        </p>
      )}
      {save.error && (
        <p role="alert" className="problem full-row">
          {t('costs.notSaved', { reason: errorText(save.error) })}
        </p>
      )}
    </form>
  );
}
