import { QueryClientProvider } from '@tanstack/react-query';
import { lazy, type ReactNode, Suspense, useEffect } from 'react';
import { AlertDialog } from './alerts/AlertDialog.tsx';
import { startHeldAlerts } from './alerts/api.ts';
import { useHealth, useSetup } from './api/admin.ts';
import { queryClient } from './api/queryClient.ts';
import { openLocalDb } from './data/db.ts';
import { type PlainId, useT } from './i18n/i18n.ts';
import { restoreMarket, startLiveSocket } from './live/socket.ts';
import { BackfillProgress } from './market/BackfillProgress.tsx';
import { BracketDialog } from './orders/BracketDialog.tsx';
import { FlattenDialog, useTradingHotkeys } from './orders/FlattenDialog.tsx';
import { OutboxPanel } from './orders/OutboxPanel.tsx';
import { useOutbox } from './orders/outbox.ts';
import { Positions } from './orders/Positions.tsx';
import { Alerts } from './screens/Alerts.tsx';
import { ConnectionBadge } from './screens/ConnectionBadge.tsx';
import { Login } from './screens/Login.tsx';
import { QuoteBoard } from './screens/QuoteBoard.tsx';
import { SettingsScreen } from './screens/SettingsScreen.tsx';
import { UpdateBanner } from './screens/UpdateBanner.tsx';
import { useAdmin } from './state/admin.ts';
import { useMarket } from './state/market.ts';
import { type User, useSession } from './state/session.ts';
import { useSettings } from './state/settings.ts';
import { useUi, type View } from './state/ui.ts';
import { WatchlistsScreen } from './watchlists/WatchlistsScreen.tsx';
import { useWorkspace } from './workspace/store.ts';
import { TradeScreen } from './workspace/TradeScreen.tsx';

// Screens not needed for the first quote load on demand: the initial bundle stays small.
const AssistantScreen = lazy(() =>
  import('./assistant/AssistantScreen.tsx').then((m) => ({ default: m.AssistantScreen })),
);
const AlertsScreen = lazy(() =>
  import('./alerts/AlertsScreen.tsx').then((m) => ({ default: m.AlertsScreen })),
);
const RiskPanel = lazy(() => import('./risk/RiskPanel.tsx').then((m) => ({ default: m.RiskPanel })));
// The admin screens and the first run: one chunk, loaded only by admins.
const AdminScreen = lazy(() => import('./admin/index.ts').then((m) => ({ default: m.AdminScreen })));
const FirstRun = lazy(() => import('./admin/index.ts').then((m) => ({ default: m.FirstRun })));

// View, label, the label on a phone (eight tabs share its width), admins only.
const TABS: ReadonlyArray<[View, PlainId, PlainId, boolean]> = [
  ['monitor', 'nav.monitor', 'nav.monitorShort', false],
  ['trade', 'nav.trade', 'nav.tradeShort', false],
  ['watchlists', 'nav.watchlists', 'nav.watchlistsShort', false],
  ['alerts', 'priceAlerts.tab', 'priceAlerts.tabShort', false],
  ['assistant', 'nav.assistant', 'nav.assistantShort', false],
  ['risk', 'nav.risk', 'nav.riskShort', true],
  ['admin', 'nav.admin', 'nav.adminShort', true],
  ['settings', 'nav.settings', 'nav.settingsShort', false],
];
const ADMIN_ONLY = new Set(TABS.filter(([, , , adminOnly]) => adminOnly).map(([v]) => v));

export function App() {
  const user = useSession((s) => s.user);
  const hasToken = useSession((s) => !!s.accessToken);
  if (user) openLocalDb(user.username);

  // Local state first (works offline), then the live socket once there is a token.
  useEffect(() => {
    if (!user) return;
    void restoreMarket();
    void useOutbox.getState().load();
    void useSettings.getState().load();
    void useWorkspace.getState().load();
    if (!navigator.onLine) useMarket.getState().setLink('offline');
  }, [user]);
  useEffect(() => (user && hasToken ? startLiveSocket() : undefined), [user, hasToken]);
  // Alerts made offline are sent once the server can be reached (no confirm: not an order).
  useEffect(() => (user && hasToken ? startHeldAlerts() : undefined), [user, hasToken]);
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
      <Shell user={user} />
    </QueryClientProvider>
  );
}

function Shell({ user }: { user: User }) {
  const t = useT();
  const signOut = useSession((s) => s.signOut);
  const admin = user.role === 'admin';
  useTradingHotkeys();
  // A role taken away (an admin changed it) leaves its screens at once.
  const view = useUi((s) => (ADMIN_ONLY.has(s.view) && !admin ? 'trade' : s.view));
  const setup = useSetup(admin);
  // The open dead letters as the admin's socket pushes them; until it has, from the Health route.
  const pushed = useAdmin((s) => s.openLetters);
  const polled = useHealth(admin && pushed === undefined).data?.deadLettersOpen;
  const openLetters = pushed ?? polled;
  const firstRun = admin && setup.data?.done === false;
  return (
    <div className={`shell view-${firstRun ? 'first-run' : view}`}>
      <UpdateBanner />
      <header className="topbar">
        <span className="brand">Tape</span>
        <ConnectionBadge />
        <span className="user">
          {user.username} · {t(`role.${user.role}`)}
        </span>
        <button type="button" className="link" onClick={() => void signOut()}>
          {t('shell.signOut')}
        </button>
      </header>
      {firstRun ? (
        <main>
          <Suspense fallback={<p className="muted">{t('common.loading')}</p>}>
            <FirstRun onDone={() => useUi.getState().setView('trade')} />
          </Suspense>
        </main>
      ) : (
        <>
          <nav className="tabs" aria-label={t('nav.screens')}>
            {TABS.filter(([, , , adminOnly]) => !adminOnly || admin).map(([v, long, short]) => {
              const count = v === 'admin' && openLetters ? openLetters : 0;
              const label = t(long);
              return (
                <button
                  key={v}
                  type="button"
                  aria-label={count ? t('nav.withLetters', { label, count }) : label}
                  aria-current={view === v ? 'page' : undefined}
                  onClick={() => useUi.getState().setView(v)}
                >
                  <span className="long">{label}</span>
                  <span className="short">{t(short)}</span>
                  {count > 0 && (
                    <span className="count" data-testid="admin-badge">
                      {count > 999 ? '999+' : count}
                    </span>
                  )}
                </button>
              );
            })}
          </nav>
          <main>
            <FlattenDialog />
            <BracketDialog />
            <AlertDialog />
            <BackfillProgress />
            <Screen view={view} />
          </main>
        </>
      )}
    </div>
  );
}

function Screen({ view }: { view: View }): ReactNode {
  const t = useT();
  const loading = <p className="muted">{t('common.loading')}</p>;
  switch (view) {
    case 'monitor':
      return (
        <div className="grid monitor">
          <QuoteBoard full />
          <Positions />
          <OutboxPanel />
          <Alerts />
        </div>
      );
    case 'trade':
      return <TradeScreen />;
    case 'watchlists':
      return <WatchlistsScreen />;
    case 'alerts':
      return (
        <Suspense fallback={loading}>
          <AlertsScreen />
        </Suspense>
      );
    case 'assistant':
      return (
        <Suspense fallback={loading}>
          <AssistantScreen />
        </Suspense>
      );
    case 'risk':
      return (
        <Suspense fallback={loading}>
          <RiskPanel />
        </Suspense>
      );
    case 'admin':
      return (
        <Suspense fallback={loading}>
          <AdminScreen />
        </Suspense>
      );
    case 'settings':
      return <SettingsScreen />;
    default:
      return null;
  }
}
