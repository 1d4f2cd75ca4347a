import { useUi } from '../state/ui.ts';

// Where a notification sends the trader: `/?ticker=PETR4` (the Trade screen on it),
// `/?order=<id>` (the order's details on the blotter), `/?screen=alerts`.

/** Opens what a link names; anything else leaves the screen as it is. */
export function openLink(url: string) {
  const q = new URL(url, location.origin).searchParams;
  const ui = useUi.getState();
  const order = q.get('order');
  const ticker = q.get('ticker');
  if (order !== null && /^\d{1,15}$/.test(order)) ui.showOrder(Number(order));
  else if (ticker !== null && /^[A-Z0-9]{4,12}$/.test(ticker)) {
    ui.selectTicker(ticker);
    ui.setView('trade');
  } else if (q.get('screen') === 'alerts') ui.setView('alerts');
}

/** The link Tape was opened with (a notification's, the app closed), then the address cleaned. */
export function openStartLink() {
  if (!location.search) return;
  openLink(location.href);
  history.replaceState(null, '', location.pathname);
}
