import { useEffect } from 'react';
import { startMarketSocket } from './market/socket.ts';
import { ConnectionBadge } from './screens/ConnectionBadge.tsx';
import { Login } from './screens/Login.tsx';
import { QuoteBoard } from './screens/QuoteBoard.tsx';
import { UpdateBanner } from './screens/UpdateBanner.tsx';
import { useSession } from './state/session.ts';

export function App() {
  const user = useSession((s) => s.user);
  const signOut = useSession((s) => s.signOut);
  useEffect(() => (user ? startMarketSocket() : undefined), [user]);
  if (!user) {
    return (
      <>
        <UpdateBanner />
        <Login />
      </>
    );
  }
  return (
    <div className="shell">
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
      <main>
        <QuoteBoard />
      </main>
    </div>
  );
}
