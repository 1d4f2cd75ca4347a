import { afterEach, describe, expect, it } from 'vitest';
import { age, errorText, HTML_LANG, msg, say, setLang, t, useLang } from './i18n.ts';

afterEach(() => setLang('pt'));

describe('t', () => {
  it('speaks Portuguese by default and English once set, filling the placeholders', () => {
    expect(useLang.getState().lang).toBe('pt');
    expect(t('conn.offline', { time: '10:32' })).toBe('Offline desde 10:32');
    setLang('en');
    expect(t('conn.offline', { time: '10:32' })).toBe('Offline since 10:32');
    expect(HTML_LANG[useLang.getState().lang]).toBe('en');
  });

  it('chooses the plural by the count, zero taking the plural, and writes the count as B3 does', () => {
    expect([0, 1, 2, 12_300].map((count) => t('tape.count', { count }))).toEqual([
      '0 negócios',
      '1 negócio',
      '2 negócios',
      '12.300 negócios',
    ]);
    setLang('en');
    expect([0, 1, 2].map((count) => t('first.import', { count }))).toEqual([
      'Import 0 accounts',
      'Import 1 account',
      'Import 2 accounts',
    ]);
  });

  it('says a stored message, nested ones too, in the language of the moment it is said', () => {
    const stored = msg('place.offline', { what: msg('order.buy', { qty: 100, ticker: 'PETR4' }) });
    expect(say(stored)).toBe('Comprar 100 PETR4: offline, salva na caixa de saída (não enviada)');
    setLang('en');
    expect(say(stored)).toBe('Buy 100 PETR4: offline, saved to the outbox (not sent)');
  });

  it("says a server's refusal by its code in Portuguese, and in the server's words in English", () => {
    const refusal = { code: 'max_order_quantity', message: 'At most 1000 per order' };
    expect(say(refusal)).toBe('Quantidade acima do máximo por ordem');
    expect(say({ code: 'something_new', message: 'As the server says' })).toBe('As the server says');
    const err = Object.assign(new Error('Wrong username or password'), { code: 'invalid_credentials' });
    expect(errorText(err)).toBe('Usuário ou senha incorretos');
    setLang('en');
    expect(say(refusal)).toBe('At most 1000 per order');
    expect(errorText(err)).toBe('Wrong username or password');
    expect(errorText(new Error('plain'))).toBe('plain');
  });

  it('stamps cached data with its age', () => {
    const at = Date.UTC(2026, 1, 2, 13, 32);
    expect(age(at, at + 5 * 60_000)).toBe('de 10:32:00 (há 5 min)');
    setLang('en');
    expect(age(at, at + 30_000)).toBe('as of 10:32:00 (just now)');
    expect(age(at, at + 3 * 3_600_000)).toBe('as of 10:32:00 (3 h ago)');
  });
});
