import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import type { BrokerAccountJson, SetupJson } from '../../sync-server/shared/admin.ts';
import { SETUP_POLL_MS, useAccounts, useSetup } from '../api/admin.ts';
import { ApiError, api } from '../api/client.ts';
import { keys } from '../api/keys.ts';
import { queryClient } from '../api/queryClient.ts';
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
  const data = setup.data;
  return (
    <section className="panel first-run" aria-labelledby="first-run-title">
      <h2 id="first-run-title">Set up trading</h2>
      <p>
        Before anyone can trade, Tape needs the trading accounts orders go to. Two steps; this screen is not
        shown again once they are done.
      </p>
      <ol className="steps" aria-label="Steps">
        <li aria-current={step === 1 ? 'step' : undefined}>1. Import accounts</li>
        <li aria-current={step === 2 ? 'step' : undefined}>2. Your own account</li>
      </ol>
      {setup.isError && <p className="problem">{setup.error.message}</p>}
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
  return (
    <div className="step">
      <h3>Step 1 · Import the trading accounts</h3>
      <p className="hint">
        These are the accounts your broker login reports through ProfitDLL (broker, account, holder). Each one
        you import becomes a Tape account with the default risk limits, which the Risk screen changes; the
        Users screen then gives each trader one.
      </p>
      {view.kind === 'routing_off' && (
        <>
          <p>
            Routing is off on this server (<code>TAPE_ROUTING=off</code>): it shows market data only, and
            there are no accounts to import.
          </p>
          <button type="button" onClick={onNext}>
            Continue without accounts
          </button>
        </>
      )}
      {view.kind === 'waiting' && (
        <p className="waiting" role="status">
          Waiting for the broker connection… The accounts show here as soon as ProfitDLL reports them (asked
          every {SETUP_POLL_MS / 1000} s).
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
            {send.isPending ? 'Importing…' : importLabel(ticked(view.list, picked).length)}
          </button>
          <button type="button" className="secondary" onClick={onNext}>
            {view.list.some((a) => a.imported) ? 'Next' : 'Skip: import none'}
          </button>
        </div>
      )}
      {send.isError && (
        <p role="alert" className="problem">
          Not imported: {send.error.message}
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
  if (list.length === 0)
    return <p>The broker reports no trading accounts for this login. Check the login with your broker.</p>;
  const on = new Set(ticked(list, picked).map(accountKey));
  return (
    <ul className="choices" aria-label="Accounts the broker reports">
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
      <h3>Step 2 · Choose your own trading account</h3>
      <p className="hint">
        The account your own orders go to when you trade from this login. Choose none if you only run the
        desk: you can give yourself one later in Admin → Users.
      </p>
      <fieldset className="choices" aria-label="Your own account">
        {list.map((a) => (
          <label key={a.id}>
            <input type="radio" name="own" checked={own === a.id} onChange={() => setOwn(a.id)} />
            <span>
              <b>{a.id}</b> · {a.brokerName || `broker #${a.brokerId}`}
              {a.holder && <span className="muted"> · {a.holder}</span>}
            </span>
          </label>
        ))}
        <label>
          <input type="radio" name="own" checked={own === null} onChange={() => setOwn(null)} />
          <span>None: I do not trade</span>
        </label>
      </fieldset>
      <div className="toolbar">
        <button type="button" disabled={finish.isPending} onClick={() => finish.mutate(own)}>
          {finish.isPending ? 'Finishing…' : 'Finish and go to Trade'}
        </button>
        <button type="button" className="secondary" onClick={onBack}>
          Back
        </button>
      </div>
      {finish.isError && (
        <p role="alert" className="problem">
          Not finished: {finish.error.message}
        </p>
      )}
    </div>
  );
}
