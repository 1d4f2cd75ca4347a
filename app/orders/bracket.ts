import { isValidPrice } from '../../sync-server/shared/instruments.ts';
import type { InstrumentInfo } from '../../sync-server/shared/market.ts';
import { ApiError } from '../api/client.ts';
import { parsePrice, price } from '../format.ts';
import { msg, type Text, t } from '../i18n/i18n.ts';
import { useMarket } from '../state/market.ts';
import { useSettings } from '../state/settings.ts';
import { type NewBracket, sendBracket } from './api.ts';
import { useOutbox } from './outbox.ts';

// An OCO bracket as the positions panel's dialog and the ticket ask for it: its three prices read
// the way B3 writes them, then sent, or held in the outbox while offline (or with no answer).

export interface BracketPrices {
  readonly takeProfit: number;
  readonly stopPrice: number;
  readonly stopLimit: number;
}

/** The take-profit, stop and stop limit as typed, or what is wrong with them. */
export function readBracketPrices(
  typed: readonly [string, string, string],
  inst: InstrumentInfo | undefined,
  last: number | undefined,
): BracketPrices | { problem: string } {
  const prices = typed.map((text) => parsePrice(text, inst?.priceDecimals ?? 2, last));
  if (prices.some((p) => !Number.isFinite(p) || p <= 0 || (inst && !isValidPrice(p, inst.tickSize))))
    return { problem: t('bracket.badPrice') };
  const [takeProfit, stopPrice, stopLimit] = prices as [number, number, number];
  return { takeProfit, stopPrice, stopLimit };
}

/** Sends a bracket; offline (or no answer from the server) it waits in the outbox. */
export async function placeBracket(b: NewBracket): Promise<{ held: boolean; text: Text }> {
  const hold = async () => {
    await useOutbox.getState().addBracket(b, useSettings.getState().outboxMinutes);
    return { held: true, text: msg('bracket.held', { ticker: b.ticker }) };
  };
  if (!navigator.onLine || useMarket.getState().link === 'offline') return hold();
  try {
    await sendBracket(b);
  } catch (err) {
    if (err instanceof ApiError && err.code === 'offline') return hold();
    throw err;
  }
  const decimals = useMarket.getState().instruments[b.ticker]?.priceDecimals;
  const [tp, stop] = [price(b.takeProfit, decimals), price(b.stopPrice, decimals)];
  return { held: false, text: msg('bracket.sent', { ticker: b.ticker, tp, stop }) };
}
