import { b3HourMinute } from '../format.ts';
import { useT } from '../i18n/i18n.ts';
import { useMarket } from '../state/market.ts';

/** Always visible: whether what the screen shows is live. */
export function ConnectionBadge() {
  const t = useT();
  const link = useMarket((s) => s.link);
  const since = useMarket((s) => s.since);
  const replaying = useMarket((s) => s.replaying);
  const connected = useMarket((s) => s.connector?.connected);
  const labels: Record<typeof link, string> = {
    live: connected === false ? t('conn.feedDown') : t('conn.live'),
    replaying: t('conn.replaying', { count: replaying }),
    conflated: t('conn.conflated'),
    offline: t('conn.offline', { time: b3HourMinute(since) }),
    reconnecting: t('conn.reconnecting'),
    connecting: t('conn.connecting'),
  };
  const label = labels[link];
  const tone = link === 'live' && connected !== false ? 'ok' : link === 'offline' ? 'bad' : 'warn';
  return (
    <output className={`badge ${tone}`} aria-live="polite" data-testid="connection">
      {label}
    </output>
  );
}
