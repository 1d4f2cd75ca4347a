import { useMarket } from '../state/market.ts';

const time = (ms: number) => new Date(ms).toLocaleTimeString('pt-BR', { hour: '2-digit', minute: '2-digit' });

/** Always visible: whether what the screen shows is live. */
export function ConnectionBadge() {
  const link = useMarket((s) => s.link);
  const since = useMarket((s) => s.since);
  const connected = useMarket((s) => s.connector?.connected);
  const label =
    link === 'live'
      ? connected === false
        ? 'Feed down'
        : 'Live'
      : link === 'offline'
        ? `Offline since ${time(since)}`
        : link === 'reconnecting'
          ? 'Reconnecting…'
          : 'Connecting…';
  const tone = link === 'live' && connected !== false ? 'ok' : link === 'offline' ? 'bad' : 'warn';
  return (
    <output className={`badge ${tone}`} aria-live="polite" data-testid="connection">
      {label}
    </output>
  );
}
