import { afterEach, describe, expect, it } from 'vitest';
import type { AlertFiringJson } from '../../sync-server/shared/alerts.ts';
import { say, setLang } from '../i18n/i18n.ts';
import {
  conditionText,
  cooldownText,
  expiryText,
  firedAtText,
  firingValue,
  listText,
  repeatText,
  statusText,
} from './words.ts';

const inBoth = (text: Parameters<typeof say>[0]) => {
  setLang('pt');
  const pt = say(text);
  setLang('en');
  const en = say(text);
  setLang('pt');
  return { pt, en };
};

afterEach(() => setLang('pt'));

describe('an alert in words', () => {
  it('says each kind of condition with the level as B3 writes it', () => {
    expect(inBoth(conditionText({ kind: 'price_above', ticker: 'PETR4', threshold: 38.5 }))).toEqual({
      pt: 'PETR4 acima de 38,50',
      en: 'PETR4 above 38,50',
    });
    expect(say(conditionText({ kind: 'price_below', ticker: 'WINZ25', threshold: 128050 }, 0))).toBe(
      'WINZ25 abaixo de 128.050',
    );
    expect(say(conditionText({ kind: 'change_above', ticker: 'VALE3', threshold: 3 }))).toBe(
      'VALE3 variação ≥ +3,00 %',
    );
    expect(say(conditionText({ kind: 'change_below', ticker: 'VALE3', threshold: -2.5 }))).toBe(
      'VALE3 variação ≤ -2,50 %',
    );
    expect(say(conditionText({ kind: 'volume_above', ticker: 'WINZ25', threshold: 100_000 }))).toBe(
      'WINZ25 volume ≥ 100.000',
    );
  });

  it("lists an order alert's events in the language of the moment, on every ticker or one", () => {
    const any = conditionText({ kind: 'order', ticker: null, orderEvents: ['filled', 'rejected'] });
    expect(inBoth(any)).toEqual({ pt: 'Ordens: executada, rejeitada', en: 'Orders: filled, rejected' });
    const one = conditionText({
      kind: 'order',
      ticker: 'PETR4',
      orderEvents: ['partially_filled', 'filled', 'cancelled'],
    });
    expect(inBoth(one)).toEqual({
      pt: 'Ordens de PETR4: executada em parte, executada, cancelada pela corretora',
      en: 'PETR4 orders: partly filled, filled, cancelled by the broker',
    });
  });

  it('joins any number of texts, the empty list as nothing', () => {
    expect(say(listText([]))).toBe('');
    expect(say(listText(['a']))).toBe('a');
    expect(say(listText(['a', 'b', 'c', 'd']))).toBe('a, b, c, d');
  });

  it('says the status, the held one as not active until back online', () => {
    expect(inBoth(statusText('held'))).toEqual({
      pt: 'inativo até voltar a conexão',
      en: 'not active until back online',
    });
    expect(inBoth(statusText('fired'))).toEqual({ pt: 'disparado', en: 'fired' });
  });

  it('says a cooldown in hours, minutes and seconds, leaving out the zero parts', () => {
    expect(cooldownText(10)).toBe('10 s');
    expect(cooldownText(300)).toBe('5 min');
    expect(cooldownText(5400)).toBe('1 h 30 min');
    expect(cooldownText(3601)).toBe('1 h 1 s');
    expect(cooldownText(0)).toBe('0 s');
  });

  it('says one-shot, repeating with its cooldown, and every time for an order alert without one', () => {
    expect(say(repeatText({ repeat: false, cooldownS: 0 }))).toBe('uma vez');
    expect(say(repeatText({ repeat: true, cooldownS: 300 }))).toBe('repete, intervalo de 5 min');
    expect(say(repeatText({ repeat: true, cooldownS: 0 }))).toBe('a cada evento');
  });

  it("says the expiry in Brasília time whatever the device's zone", () => {
    // 21:30 UTC is 18:30 in Brasília.
    expect(say(expiryText({ kind: 'session', at: '2026-12-02T21:30:00.000Z' }))).toBe(
      'fim do pregão (02/12/2026, 18:30)',
    );
    expect(say(expiryText({ kind: 'date', at: '2026-12-20T13:00:00.000Z' }))).toBe('em 20/12/2026, 10:00');
    expect(say(expiryText({ kind: 'never' }))).toBe('não expira');
    expect(firedAtText('2026-12-02T13:32:15.000Z')).toBe('02/12/2026, 10:32:15');
  });

  it("says what a firing measured: the change, the session's volume, the order", () => {
    const f = (over: Partial<AlertFiringJson>): AlertFiringJson => ({
      id: 1,
      alertId: 1,
      kind: 'price_above',
      ticker: 'PETR4',
      firedAt: '2026-12-02T13:00:00.000Z',
      price: 38.5,
      value: null,
      threshold: 38.5,
      orderId: null,
      orderEvent: null,
      notified: 'sent',
      ...over,
    });
    expect(say(firingValue(f({})))).toBe('—');
    expect(say(firingValue(f({ kind: 'change_above', value: 3.1 })))).toBe('+3,10 %');
    expect(say(firingValue(f({ kind: 'volume_above', value: 123_400 })))).toBe('123.400');
    expect(say(firingValue(f({ kind: 'order', orderId: '77', orderEvent: 'filled' })))).toBe('#77');
  });
});
