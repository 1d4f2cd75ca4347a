import { QueryClientProvider } from '@tanstack/react-query';
import { lazy, type ReactNode, Suspense, useEffect } from 'react';
import { queryClient } from './api/queryClient.ts';
import { openLocalDb } from './data/db.ts';
import { restoreMarket, startLiveSocket } from './live/socket.ts';
import { Blotter } from './orders/Blotter.tsx';
import { OrderTicket } from './orders/OrderTicket.tsx';
import { OutboxPanel } from './orders/OutboxPanel.tsx';
import { useOutbox } from './orders/outbox.ts';
import { Positions } from './orders/Positions.tsx';
import { Alerts } from './screens/Alerts.tsx';
import { ConnectionBadge } from './screens/ConnectionBadge.tsx';
import { Login } from './screens/Login.tsx';
import { QuoteBoard } from './screens/QuoteBoard.tsx';
import { SettingsScreen } from './screens/SettingsScreen.tsx';
import { UpdateBanner } from './screens/UpdateBanner.tsx';
import { useMarket } from './state/market.ts';
import { useSession } from './state/session.ts';
import { useSettings } from './state/settings.ts';
import { useUi, type View } from './state/ui.ts';
import { WatchlistsScreen } from './watchlists/WatchlistsScreen.tsx';

// Screens not needed for the first quote load on demand: the initial bundle stays small.
const CandleChart = lazy(() => import('./chart/CandleChart.tsx'));
const AssistantScreen = lazy(() =>
  import('./assistant/AssistantScreen.tsx').then((m) => ({ default: m.AssistantScreen })),
);
const RiskPanel = lazy(() => import('./risk/RiskPanel.tsx').then((m) => ({ default: m.RiskPanel })));

const TABS: ReadonlyArray<[View, string, boolean]> = [
  ['monitor', 'Monitor', false],
  ['trade', 'Trade', false],
  ['watchlists', 'Watchlists', false],
  ['assistant', 'Assistant', false],
  ['risk', 'Risk', true],
  ['settings', 'Settings', false],
];

export function App() {
  const user = useSession((s) => s.user);
  const hasToken = useSession((s) => !!s.accessToken);
  const signOut = useSession((s) => s.signOut);
  const view = useUi((s) => s.view);
  if (user) openLocalDb(user.username);

  // Local state first (works offline), then the live socket once there is a token.
  useEffect(() => {
    if (!user) return;
    void restoreMarket();
    void useOutbox.getState().load();
    void useSettings.getState().load();
    if (!navigator.onLine) useMarket.getState().setLink('offline');
  }, [user]);
  useEffect(() => (user && hasToken ? startLiveSocket() : undefined), [user, hasToken]);
  useEffect(() => {
    if (!user) queryClient.clear();
  }, [user]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'F2' || e.key === 'F3') {
        e.preventDefault();
        useUi.getState().openTicket(e.key === 'F2' ? 'buy' : 'sell');
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  if (!user) {
    return (
      <>
        <UpdateBanner />
        <Login />
      </>
    );
  }
  return (
    <QueryClientProvider client={queryClient}>
      <div className={`shell view-${view}`}>
        <UpdateBanner />
        <header className="topbar">
          <span className="brand">Tape</span>
          <ConnectionBadge />
          <span className="user">
            {user.username} · {user.role}
          </span>
          <button type="button" className="link" onClick={() => void signOut()}>
            Sign out
          </button>
        </header>
        <nav className="tabs" aria-label="Screens">
          {TABS.filter(([, , adminOnly]) => !adminOnly || user.role === 'admin').map(([v, label]) => (
            <button
              key={v}
              type="button"
              aria-current={view === v ? 'page' : undefined}
              onClick={() => useUi.getState().setView(v)}
            >
              {label}
            </button>
          ))}
        </nav>
        <main>
          <Screen view={view} />
        </main>
      </div>
    </QueryClientProvider>
  );
}

function Screen({ view }: { view: View }): ReactNode {
  const ticker = useUi((s) => s.ticker) ?? useMarket.getState().tickers[0];
  switch (view) {
    case 'monitor':
      return (
        <div className="grid monitor">
          <QuoteBoard />
          <Positions />
          <OutboxPanel />
          <Alerts />
        </div>
      );
    case 'trade':
      return (
        <div className="grid trade">
          <QuoteBoard />
          <Suspense fallback={<section className="panel chart" />}>
            {ticker && <CandleChart key={ticker} ticker={ticker} />}
          </Suspense>
          <div className="side">
            <OrderTicket />
            <OutboxPanel />
          </div>
          <Blotter />
          <Positions />
          <Alerts limit={5} />
        </div>
      );
    case 'watchlists':
      return <WatchlistsScreen />;
    case 'assistant':
      return (
        <Suspense fallback={<p className="muted">Loading…</p>}>
          <AssistantScreen />
        </Suspense>
      );
    case 'risk':
      return (
        <Suspense fallback={<p className="muted">Loading…</p>}>
          <RiskPanel />
        </Suspense>
      );
    case 'settings':
      return <SettingsScreen />;
    default:
      return null;
  }
}
