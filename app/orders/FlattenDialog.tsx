import { useEffect, useRef } from 'react';
import { create } from 'zustand';
import { msg, say, useT } from '../i18n/i18n.ts';
import { useAlerts } from '../state/alerts.ts';
import { useMarket } from '../state/market.ts';
import { useSession } from '../state/session.ts';
import { useSettings } from '../state/settings.ts';
import { useUi } from '../state/ui.ts';
import { useCancelAll, useCancelOrder, useOrders, usePositions } from './api.ts';
import { isWorking } from './blotter.ts';
import { flattenRequest, flattenWhat, placeFlatten } from './flatten.ts';
import { actionFor, comboOf, type HotkeyAction, isTyping } from './hotkeys.ts';

// Flatten and reverse as the trader asks them (the positions panel's buttons, or a hotkey from
// anywhere on the desk): with their confirmation on, a dialog restates what will be sent first.

interface Ask {
  readonly ticker?: string;
  readonly reverse: boolean;
}

interface FlattenAskState {
  ask: Ask | undefined;
  set(ask: Ask | undefined): void;
}

const useAsk = create<FlattenAskState>((set) => ({ ask: undefined, set: (ask) => set({ ask }) }));

async function send(ask: Ask) {
  const { outboxMinutes } = useSettings.getState();
  const offline = !navigator.onLine || useMarket.getState().link === 'offline';
  const placed = await placeFlatten(flattenRequest(ask.ticker, ask.reverse), { offline, outboxMinutes });
  useAlerts
    .getState()
    .push(placed.kind === 'error' ? 'error' : placed.kind === 'ok' ? 'info' : 'warn', placed.text);
}

/** Flatten (or reverse) a ticker, or with no ticker the whole account: asked first when the setting says so. */
export function askFlatten(ask: Ask) {
  const s = useSettings.getState();
  if (ask.reverse ? s.confirmReverse : s.confirmFlatten) useAsk.getState().set(ask);
  else void send(ask);
}

/** The confirmation: what will be cancelled and sent, Enter (or Confirm) to send, Esc to keep. */
export function FlattenDialog() {
  const ask = useAsk((s) => s.ask);
  const t = useT();
  const positions = usePositions().data?.positions ?? [];
  const orders = useOrders().data?.orders ?? [];
  const confirm = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (ask) confirm.current?.focus();
  }, [ask]);
  if (!ask) return null;
  const close = () => useAsk.getState().set(undefined);
  const held = positions.filter((p) => (ask.ticker === undefined ? p.qty !== 0 : p.ticker === ask.ticker));
  const working = orders.filter((o) => isWorking(o) && (ask.ticker === undefined || o.ticker === ask.ticker));
  const what = ask.ticker === undefined ? flattenWhat(ask) : flattenWhat(ask, held[0]?.qty ?? 0);
  return (
    <div
      className="panel flatten-ask"
      role="alertdialog"
      aria-modal="true"
      aria-labelledby="flatten-ask-title"
      onKeyDown={(e) => {
        if (e.key === 'Escape') close();
      }}
    >
      <h2 id="flatten-ask-title">{t(ask.reverse ? 'flatten.askReverse' : 'flatten.ask')}</h2>
      <p data-testid="flatten-what">{say(what)}</p>
      {ask.ticker === undefined && held.length > 0 && (
        <ul>
          {held.map((p) => (
            <li key={p.ticker}>{say(flattenWhat({ ticker: p.ticker, reverse: false }, p.qty))}</li>
          ))}
        </ul>
      )}
      <p className="muted">
        {working.length > 0 ? t('flatten.cancelsFirst', { count: working.length }) : t('flatten.noWorking')}{' '}
        {t('flatten.atMarket')}
      </p>
      <div className="actions">
        <button
          ref={confirm}
          type="button"
          className={ask.reverse ? 'primary' : 'danger'}
          onClick={() => {
            close();
            void send(ask);
          }}
        >
          {t('flatten.confirm')}
        </button>
        <button type="button" onClick={close}>
          {t('flatten.keep')}
        </button>
      </div>
    </div>
  );
}

/** The trading hotkeys (orders/hotkeys.ts), for a user who may trade, while not typing in a field. */
export function useTradingHotkeys() {
  const role = useSession((s) => s.user?.role);
  const hotkeys = useSettings((s) => s.hotkeys);
  const orders = useOrders().data?.orders;
  const cancel = useCancelOrder();
  const cancelAll = useCancelAll();
  const canTrade = role === 'admin' || role === 'trader';
  useEffect(() => {
    if (!canTrade) return;
    const act = (action: HotkeyAction) => {
      const ticker = useUi.getState().ticker ?? useMarket.getState().tickers[0];
      if (action === 'flattenAll') return askFlatten({ reverse: false });
      if (action === 'cancelAll') {
        cancelAll.mutate();
        return useAlerts.getState().push('info', msg('hotkey.cancellingAll'));
      }
      if (!ticker) return;
      if (action === 'flatten' || action === 'reverse')
        return askFlatten({ ticker, reverse: action === 'reverse' });
      const mine = (orders ?? []).filter(
        (o) => o.ticker === ticker && isWorking(o) && o.state !== 'pending_cancel',
      );
      for (const o of mine) cancel.mutate(o.id);
      useAlerts.getState().push('info', msg('ladder.cancellingOn', { count: mine.length, ticker }));
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || isTyping(e.target) || useAsk.getState().ask) return;
      const combo = comboOf(e);
      const action = combo && actionFor(hotkeys, combo);
      if (!action) return;
      e.preventDefault();
      act(action);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [canTrade, hotkeys, orders, cancel, cancelAll]);
}
