import { useEffect } from 'react';
import type { Trade } from '../../sync-server/shared/market.ts';
import { api } from '../api/client.ts';
import { tradeTape, useMarket } from '../state/market.ts';
import { TAPE_TRADES } from '../state/tradeRing.ts';

/**
 * Fills a ticker's tape with the trades before what it holds (GET /api/v1/market/trades), once
 * per opening, so Times & Trades does not start empty or at the moment the app was opened. Only
 * trades up to the quote's seq are taken when the tape is empty: newer ones are still on their
 * way in frames, and the tape would otherwise hold them before they come.
 */
export async function seedTape(ticker: string): Promise<number> {
  const tape = tradeTape(ticker);
  const room = TAPE_TRADES - (tape?.size ?? 0);
  if (room <= 0) return 0;
  const oldest = tape?.at(tape.size - 1);
  const head = useMarket.getState().quotes[ticker]?.seq;
  if (!oldest && head === undefined) return 0;
  const before = oldest ? oldest.seq : (head as number) + 1;
  const { trades } = await api<{ trades: Trade[] }>(
    `/api/v1/market/trades?ticker=${ticker}&before=${before}&limit=${room}`,
  );
  useMarket.getState().olderTrades(ticker, trades);
  return trades.length;
}

/** seedTape when the view opens; a failure leaves the tape as it is (it says where it starts). */
export function useSeedTape(ticker: string): void {
  useEffect(() => {
    seedTape(ticker).catch((err: unknown) => console.warn(`older trades of ${ticker}: ${String(err)}`));
  }, [ticker]);
}
