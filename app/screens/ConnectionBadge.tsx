import { b3HourMinute } from '../format.ts';
import { useMarket } from '../state/market.ts';

/** Always visible: whether what the screen shows is live. */
export function ConnectionBadge() {
  const link = useMarket((s) => s.link);
  const since = useMarket((s) => s.since);
  const replaying = useMarket((s) => s.replaying);
  const connected = useMarket((s) => s.connector?.connected);
  const labels: Record<typeof link, string> = {
    live: connected === false ? 'Feed down' : 'Live',
    replaying: `Replaying ${replaying.toLocaleString('pt-BR')} events`,
    conflated: 'Catching up (conflated)',
    offline: `Offline since ${b3HourMinute(since)}`,
    reconnecting: 'Reconnecting…',
    connecting: 'Connecting…',
  };
  const label = labels[link];
  const tone = link === 'live' && connected !== false ? 'ok' : link === 'offline' ? 'bad' : 'warn';
  return (
    <output className={`badge ${tone}`} aria-live="polite" data-testid="connection">
      {label}
    </output>
  );
}
