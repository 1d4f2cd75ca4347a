import { useEffect, useState } from 'react';
import { isLive, useMarket } from '../state/market.ts';
import { useSettings } from '../state/settings.ts';

/**
 * The one staleness rule for quotes on screen: older than the setting, or any quote while the
 * feed is not live. Re-evaluated every second.
 */
export function useIsStale(): (receivedAt: number) => boolean {
  const live = useMarket((s) => isLive(s.link));
  const staleMs = useSettings((s) => s.staleAfterSeconds) * 1000;
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  return (receivedAt) => !live || now - receivedAt > staleMs;
}
