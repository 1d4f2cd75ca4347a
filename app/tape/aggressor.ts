// Who took liquidity in a trade, from ProfitDLL's tradeType (the DLL manual's table for
// TNewTradeCallback: 1 cross trade, 2 buy aggression, 3 sell aggression, 4 auction, 5-13 B3's
// other kinds, 32 unknown; the simulator sends 1-3, native/include/profitdll.h).

import { type PlainId, t } from '../i18n/i18n.ts';

export type AggressorSide = 'buy' | 'sell' | undefined;

export interface Aggressor {
  /** What the Aggressor column shows. */
  readonly label: string;
  /** Whose aggression it was: the row's colour. Undefined for trades no side started. */
  readonly side: AggressorSide;
  /** What the label means, for the cell's title. */
  readonly title: string;
}

// The label, the side, the title (the label again where it says enough).
const KINDS: Record<number, readonly [PlainId, AggressorSide, PlainId?]> = {
  1: ['agg.direct', undefined, 'agg.directTitle'],
  2: ['agg.buyer', 'buy', 'agg.buyerTitle'],
  3: ['agg.seller', 'sell', 'agg.sellerTitle'],
  4: ['agg.auction', undefined],
  5: ['agg.surveillance', undefined],
  6: ['agg.expit', undefined],
  7: ['agg.exercise', undefined, 'agg.exerciseTitle'],
  8: ['agg.otc', undefined, 'agg.otcTitle'],
  9: ['agg.term', undefined, 'agg.termTitle'],
  10: ['agg.index', undefined],
  11: ['agg.btc', undefined, 'agg.btcTitle'],
  12: ['agg.onBehalf', undefined, 'agg.onBehalfTitle'],
  13: ['agg.rlp', undefined, 'agg.rlpTitle'],
};

/** A trade's aggressor in the current language. */
export function aggressor(tradeType: number): Aggressor {
  const kind = KINDS[tradeType];
  if (!kind) return { label: '—', side: undefined, title: t('agg.unknown', { type: tradeType }) };
  const [label, side, title = label] = kind;
  return { label: t(label), side, title: t(title) };
}
