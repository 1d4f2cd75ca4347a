import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import type { BrokerAccountJson, SetupJson } from '../../sync-server/shared/admin.ts';
import { SETUP_POLL_MS, useAccounts, useSetup } from '../api/admin.ts';
import { ApiError, api } from '../api/client.ts';
import { keys } from '../api/keys.ts';
import { queryClient } from '../api/queryClient.ts';
import { errorText, useT } from '../i18n/i18n.ts';
import { reconnectLiveSocket } from '../live/socket.ts';
import { accountKey, importBody, importLabel, notImportable, stepOne, ticked } from './firstRun.ts';
import './admin.css';

const refreshSetup = () =>
  Promise.all([
    queryClient.invalidateQueries({ queryKey: keys.setup() }),
    queryClient.invalidateQueries({ queryKey: keys.accounts() }),
  ]);

/**
 * The first run, shown to an admin until it is finished: the trading accounts the broker reports
 * become Tape accounts, then the admin picks the one it trades itself (or none).
 */
export function FirstRun({ onDone }: { onDone(): void }) {
  const [step, setStep] = useState<1 | 2>(1);
  const setup = useSetup(true, true);
  const t = useT();
  const data = setup.data;
  return (
    <section className="panel first-run" aria-labelledby="first-run-title">
      <h2 id="first-run-title">{t('first.title')}</h2>
      <p>{t('first.intro')}</p>
      <ol className="steps" aria-label={t('first.steps')}>
        <li aria-current={step === 1 ? 'step' : undefined}>{t('first.step1')}</li>
        <li aria-current={step === 2 ? 'step' : undefined}>{t('first.step2')}</li>
      </ol>
      {setup.isError && <p className="problem">{errorText(setup.error)}</p>}
      {data && step === 1 && <ImportStep setup={data} onNext={() => setStep(2)} />}
      {data && step === 2 && <OwnAccountStep setup={data} onBack={() => setStep(1)} onDone={onDone} />}
    </section>
  );
}

function ImportStep({ setup, onNext }: { setup: SetupJson; onNext(): void }) {
  const [picked, setPicked] = useState<ReadonlyMap<string, boolean>>(new Map());
  const send = useMutation({
    mutationFn: (chosen: readonly BrokerAccountJson[]) =>
      api('/api/v1/setup/accounts', { body: importBody(chosen) }),
    onSuccess: () => {
      void refreshSetup();
      onNext();
    },
  });
  const view = stepOne(setup);
  const t = useT();
  // The setting in code type inside the sentence, wherever the language puts it.
  const [before, after] = t('first.routingOff', { setting: '\u0000' }).split('\u0000');
  return (
    <div className="step">
      <h3>{t('first.importTitle')}</h3>
      <p className="hint">{t('first.importHint')}</p>
      {view.kind === 'routing_off' && (
        <>
          <p>
            {before}
            <code>TAPE_ROUTING=off</code>
            {after}
          </p>
          <button type="button" onClick={onNext}>
            {t('first.continueWithout')}
          </button>
        </>
      )}
      {view.kind === 'waiting' && (
        <p className="waiting" role="status">
          {t('first.waiting', { s: SETUP_POLL_MS / 1000 })}
        </p>
      )}
      {view.kind === 'accounts' && (
        <AccountChoice
          list={view.list}
          picked={picked}
          onPick={(a, on) => setPicked(new Map([...picked, [accountKey(a), on]]))}
        />
      )}
      {view.kind === 'accounts' && (
        <div className="toolbar">
          <button
            type="button"
            disabled={send.isPending || ticked(view.list, picked).length === 0}
            onClick={() => send.mutate(ticked(view.list, picked))}
          >
            {send.isPending ? t('first.importing') : importLabel(ticked(view.list, picked).length)}
          </button>
          <button type="button" className="secondary" onClick={onNext}>
            {view.list.some((a) => a.imported) ? t('first.next') : t('first.skip')}
          </button>
        </div>
      )}
      {send.isError && (
        <p role="alert" className="problem">
          {t('first.notImported', { reason: errorText(send.error) })}
        </p>
      )}
    </div>
  );
}

function AccountChoice({
  list,
  picked,
  onPick,
}: {
  list: readonly BrokerAccountJson[];
  picked: ReadonlyMap<string, boolean>;
  onPick(a: BrokerAccountJson, on: boolean): void;
}) {
  const t = useT();
  if (list.length === 0) return <p>{t('first.noAccounts')}</p>;
  const on = new Set(ticked(list, picked).map(accountKey));
  return (
    <ul className="choices" aria-label={t('first.reported')}>
      {list.map((a) => {
        const why = notImportable(a);
        return (
          <li key={accountKey(a)}>
            <label>
              <input
                type="checkbox"
                checked={a.imported || on.has(accountKey(a))}
                disabled={why !== undefined}
                onChange={(e) => onPick(a, e.target.checked)}
              />
              <span>
                <b>{a.accountId}</b>
                {a.subAccountId && `/${a.subAccountId}`} · {a.brokerName}{' '}
                <small className="muted">#{a.brokerId}</small>
                <br />
                <span className="muted">{a.holder}</span>
                {why && <small className="muted"> · {why}</small>}
              </span>
            </label>
          </li>
        );
      })}
    </ul>
  );
}

function OwnAccountStep({ setup, onBack, onDone }: { setup: SetupJson; onBack(): void; onDone(): void }) {
  const accounts = useAccounts();
  const [own, setOwn] = useState<string | null>(setup.ownAccount);
  const t = useT();
  const finish = useMutation({
    mutationFn: async (ownAccount: string | null) => {
      try {
        await api('/api/v1/setup/done', { body: { ownAccount } });
      } catch (err) {
        // Another admin finished it meanwhile: there is nothing left to do here.
        if (!(err instanceof ApiError && err.code === 'setup_done')) throw err;
      }
    },
    onSuccess: (_r, ownAccount) => {
      queryClient.setQueryData<SetupJson>(keys.setup(), { ...setup, done: true, ownAccount });
      void refreshSetup();
      if (ownAccount) reconnectLiveSocket();
      onDone();
    },
  });
  const list = accounts.data ?? [];
  return (
    <div className="step">
      <h3>{t('first.ownTitle')}</h3>
      <p className="hint">{t('first.ownHint')}</p>
      <fieldset className="choices" aria-label={t('first.own')}>
        {list.map((a) => (
          <label key={a.id}>
            <input type="radio" name="own" checked={own === a.id} onChange={() => setOwn(a.id)} />
            <span>
              <b>{a.id}</b> · {a.brokerName || t('first.broker', { id: a.brokerId })}
              {a.holder && <span className="muted"> · {a.holder}</span>}
            </span>
          </label>
        ))}
        <label>
          <input type="radio" name="own" checked={own === null} onChange={() => setOwn(null)} />
          <span>{t('first.none')}</span>
        </label>
      </fieldset>
      <div className="toolbar">
        <button type="button" disabled={finish.isPending} onClick={() => finish.mutate(own)}>
          {finish.isPending ? t('first.finishing') : t('first.finish')}
        </button>
        <button type="button" className="secondary" onClick={onBack}>
          {t('first.back')}
        </button>
      </div>
      {finish.isError && (
        <p role="alert" className="problem">
          {t('first.notFinished', { reason: errorText(finish.error) })}
        </p>
      )}
    </div>
  );
}
