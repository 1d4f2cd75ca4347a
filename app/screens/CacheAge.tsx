import { age, useT } from '../i18n/i18n.ts';
import { isLive, useMarket } from '../state/market.ts';

interface QueryLike {
  readonly data: unknown;
  readonly dataUpdatedAt: number;
  readonly isError: boolean;
  readonly isPaused: boolean;
}

/** "as of 10:32 (5 min ago)" on data shown from the device while the server cannot confirm it. */
export function CacheAge({ query }: { query: QueryLike }) {
  const live = useMarket((s) => isLive(s.link));
  useT();
  if (query.data === undefined || (live && !query.isError && !query.isPaused)) return null;
  return <small className="cached">{age(query.dataUpdatedAt)}</small>;
}
