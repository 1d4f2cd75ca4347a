import { beforeEach, describe, expect, it } from 'vitest';
import { setLang } from '../i18n/i18n.ts';
import { aggressor } from './aggressor.ts';

describe('aggressor', () => {
  beforeEach(() => setLang('en'));

  it('reads the buyer or the seller as aggressor from the DLL trade types 2 and 3', () => {
    expect(aggressor(2)).toMatchObject({ label: 'Buyer', side: 'buy' });
    expect(aggressor(3)).toMatchObject({ label: 'Seller', side: 'sell' });
  });

  it('gives no side to a direct (cross) trade or an auction', () => {
    expect(aggressor(1)).toMatchObject({ label: 'Direct', side: undefined });
    expect(aggressor(4)).toMatchObject({ label: 'Auction', side: undefined });
    expect(aggressor(13)).toMatchObject({ label: 'RLP', side: undefined });
  });

  it('says it in Portuguese by default', () => {
    setLang('pt');
    expect(aggressor(2)).toEqual({
      label: 'Comprador',
      side: 'buy',
      title: 'Agressão compradora: o comprador tomou a oferta',
    });
    expect(aggressor(4)).toEqual({ label: 'Leilão', side: undefined, title: 'Leilão' });
  });

  it('shows a code it does not know as unknown, with the code', () => {
    for (const code of [0, 32, 255]) {
      expect(aggressor(code)).toEqual({ label: '—', side: undefined, title: `Unknown trade type (${code})` });
    }
  });
});
