// Who took liquidity in a trade, from ProfitDLL's tradeType (the DLL manual's table for
// TNewTradeCallback: 1 cross trade, 2 buy aggression, 3 sell aggression, 4 auction, 5-13 B3's
// other kinds, 32 unknown; the simulator sends 1-3, native/include/profitdll.h).

export type AggressorSide = 'buy' | 'sell' | undefined;

export interface Aggressor {
  /** What the Aggressor column shows. */
  readonly label: string;
  /** Whose aggression it was: the row's colour. Undefined for trades no side started. */
  readonly side: AggressorSide;
  /** What the label means, for the cell's title. */
  readonly title: string;
}

const KINDS: Record<number, Aggressor> = {
  1: { label: 'Direct', side: undefined, title: 'Cross trade: both sides from one broker' },
  2: { label: 'Buyer', side: 'buy', title: 'Buy aggression: the buyer took the offer' },
  3: { label: 'Seller', side: 'sell', title: 'Sell aggression: the seller hit the bid' },
  4: { label: 'Auction', side: undefined, title: 'Auction' },
  5: { label: 'Surveillance', side: undefined, title: 'Surveillance' },
  6: { label: 'Expit', side: undefined, title: 'Expit' },
  7: { label: 'Exercise', side: undefined, title: 'Options exercise' },
  8: { label: 'OTC', side: undefined, title: 'Over the counter' },
  9: { label: 'Term', side: undefined, title: 'Derivative term' },
  10: { label: 'Index', side: undefined, title: 'Index' },
  11: { label: 'BTC', side: undefined, title: 'Securities lending (BTC)' },
  12: { label: 'On behalf', side: undefined, title: 'On behalf' },
  13: { label: 'RLP', side: undefined, title: 'Retail liquidity provider (RLP)' },
};

export function aggressor(tradeType: number): Aggressor {
  return KINDS[tradeType] ?? { label: '—', side: undefined, title: `Unknown trade type (${tradeType})` };
}
