import type { InstrumentInfo } from '../../sync-server/shared/market.ts';

// Tests only: the three kinds of instrument the app's rules differ on, a stock (lots of 100,
// centavos), the mini index (5-point ticks, no decimals) and the mini dollar (half points).

export const PETR4: InstrumentInfo = {
  ticker: 'PETR4',
  exchange: 'B',
  tickSize: 0.01,
  lotSize: 100,
  priceDecimals: 2,
  multiplier: 1,
};
export const WIN: InstrumentInfo = {
  ticker: 'WINZ25',
  exchange: 'F',
  tickSize: 5,
  lotSize: 1,
  priceDecimals: 0,
  multiplier: 0.2,
};
export const WDO: InstrumentInfo = {
  ticker: 'WDOZ25',
  exchange: 'F',
  tickSize: 0.5,
  lotSize: 1,
  priceDecimals: 1,
  multiplier: 10,
};
