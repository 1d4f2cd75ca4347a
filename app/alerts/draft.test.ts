import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { say } from '../i18n/i18n.ts';
import { alertJson } from '../testing/alerts.ts';
import { PETR4, WIN } from '../testing/instruments.ts';
import {
  type AlertFields,
  brasiliaInstant,
  brasiliaLocal,
  fieldsOf,
  kindFor,
  onTick,
  readAlertSettings,
  readNewAlert,
  readPatch,
  readThreshold,
} from './draft.ts';

const fields = (over: Partial<AlertFields> = {}): AlertFields => ({
  kind: 'price_above',
  ticker: 'PETR4',
  threshold: '38,50',
  events: ['filled'],
  repeat: false,
  cooldown: '300',
  expiry: 'session',
  expiryAt: '',
  note: '',
  ...over,
});

const value = <T>(r: { value: T } | { problem: unknown }): T => {
  if ('problem' in r) throw new Error(`a problem: ${say(r.problem as never)}`);
  return r.value;
};
const problemOf = (r: { value: unknown } | { problem: Parameters<typeof say>[0] }) =>
  'problem' in r ? say(r.problem) : undefined;

describe('the level typed', () => {
  it('reads prices as a trader types them, near the last price', () => {
    expect(value(readThreshold('price_above', '38,50', PETR4, 38.1))).toBe(38.5);
    expect(value(readThreshold('price_below', '38.5', PETR4, 38.1))).toBe(38.5);
    expect(value(readThreshold('price_above', '128.050', WIN, 127_900))).toBe(128_050);
    expect(problemOf(readThreshold('price_above', '', PETR4, 38))).toMatch(/preço acima de zero/);
    expect(problemOf(readThreshold('price_above', 'abc', PETR4, 38))).toBeDefined();
    expect(problemOf(readThreshold('price_above', '0', PETR4, 38))).toBeDefined();
  });

  it('reads a change with its sign and an optional %, refusing 0 and ±100', () => {
    expect(value(readThreshold('change_above', '+3', undefined, undefined))).toBe(3);
    expect(value(readThreshold('change_below', '-2,5 %', undefined, undefined))).toBe(-2.5);
    expect(value(readThreshold('change_below', '−1.25%', undefined, undefined))).toBe(-1.25);
    expect(value(readThreshold('change_above', '3', undefined, undefined))).toBe(3);
    for (const bad of ['0', '100', '-100', '+', 'x%', '3 %%'])
      expect(problemOf(readThreshold('change_above', bad, undefined, undefined)), bad).toBeDefined();
  });

  it('reads a volume as a whole quantity, thousands with dots', () => {
    expect(value(readThreshold('volume_above', '100.000', undefined, undefined))).toBe(100_000);
    expect(value(readThreshold('volume_above', '1.250.000', undefined, undefined))).toBe(1_250_000);
    expect(problemOf(readThreshold('volume_above', '10,5', undefined, undefined))).toBeDefined();
  });
});

describe('above or below, on the tick', () => {
  it('picks the way the price has to go to reach the level', () => {
    expect(kindFor(39, 38.5)).toBe('price_above');
    expect(kindFor(38, 38.5)).toBe('price_below');
    expect(kindFor(38, undefined)).toBe('price_above');
  });

  it('puts any price on the grid, within half a tick', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1, max: 200_000, noNaN: true }),
        fc.constantFrom(PETR4, WIN),
        (p, inst) => {
          const q = onTick(p, inst.tickSize, inst.priceDecimals);
          expect(Math.abs(q - p)).toBeLessThanOrEqual(inst.tickSize / 2 + 1e-9);
          const ticks = q / inst.tickSize;
          expect(Math.abs(ticks - Math.round(ticks))).toBeLessThan(1e-6);
        },
      ),
    );
  });
});

describe('Brasília wall-clock times', () => {
  it('turns a datetime-local text into the instant, and back, whatever the minute', () => {
    expect(brasiliaInstant('2026-12-20T18:00')).toBe('2026-12-20T21:00:00.000Z');
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2040, 0, 1) }), (ms) => {
        const minute = Math.floor(ms / 60_000) * 60_000;
        const local = brasiliaLocal(minute);
        expect(brasiliaInstant(local)).toBe(new Date(minute).toISOString());
      }),
    );
  });

  it('refuses what is not a day or a time', () => {
    for (const bad of ['', '2026-02-31T10:00', '2026-12-20T24:00', '2026-12-20T10:60', '20/12/2026 10:00'])
      expect(brasiliaInstant(bad), bad).toBeUndefined();
  });
});

describe('a new alert from the form', () => {
  it('sends what the form says, and only what applies to its kind', () => {
    expect(value(readNewAlert(fields({ note: '  stop  ' }), PETR4, 38))).toEqual({
      kind: 'price_above',
      ticker: 'PETR4',
      threshold: 38.5,
      repeat: false,
      expiry: { kind: 'session' },
      note: 'stop',
    });
    expect(
      value(
        readNewAlert(
          fields({ kind: 'order', ticker: '', events: ['filled', 'rejected'], repeat: true, cooldown: '0' }),
          undefined,
          undefined,
        ),
      ),
    ).toEqual({
      kind: 'order',
      ticker: null,
      orderEvents: ['filled', 'rejected'],
      repeat: true,
      cooldownS: 0,
      expiry: { kind: 'session' },
    });
    expect(
      value(
        readNewAlert(
          fields({ repeat: true, cooldown: '60', expiry: 'date', expiryAt: '2026-12-20T18:00' }),
          PETR4,
          38,
        ),
      ),
    ).toMatchObject({
      repeat: true,
      cooldownS: 60,
      expiry: { kind: 'date', at: '2026-12-20T21:00:00.000Z' },
    });
  });

  it('names the first thing to fix', () => {
    expect(problemOf(readNewAlert(fields({ ticker: '' }), undefined, undefined))).toBe('Escolha o ativo');
    expect(problemOf(readNewAlert(fields({ kind: 'order', events: [] }), undefined, undefined))).toBe(
      'Marque ao menos um evento de ordem',
    );
    expect(problemOf(readNewAlert(fields({ repeat: true, cooldown: '1,5' }), PETR4, 38))).toMatch(/segundos/);
    expect(problemOf(readNewAlert(fields({ expiry: 'date', expiryAt: '' }), PETR4, 38))).toMatch(/expiração/);
  });
});

describe('an edit', () => {
  const alert = alertJson();

  it('sends nothing when nothing changed: an untouched session expiry is not renewed', () => {
    expect(value(readPatch(alert, fieldsOf(alert, 2), PETR4, 38))).toEqual({});
  });

  it('sends only the fields changed', () => {
    const f = fieldsOf(alert, 2);
    expect(value(readPatch(alert, { ...f, threshold: '39' }, PETR4, 38))).toEqual({ threshold: 39 });
    expect(value(readPatch(alert, { ...f, repeat: true, cooldown: '120' }, PETR4, 38))).toEqual({
      repeat: true,
      cooldownS: 120,
    });
    expect(value(readPatch(alert, { ...f, expiry: 'never' }, PETR4, 38))).toEqual({
      expiry: { kind: 'never' },
    });
    expect(value(readPatch(alert, { ...f, note: 'saída' }, PETR4, 38))).toEqual({ note: 'saída' });
    expect(value(readPatch({ ...alert, note: 'x' }, { ...f, note: ' ' }, PETR4, 38))).toEqual({ note: null });
    expect(problemOf(readPatch(alert, { ...f, threshold: 'x' }, PETR4, 38))).toBeDefined();
  });
});

describe('notification settings', () => {
  it('takes both ends of the quiet hours or neither, and a rate of 1 to 60', () => {
    expect(value(readAlertSettings('22:00', '07:00', '6'))).toEqual({
      quietFrom: '22:00',
      quietTo: '07:00',
      perMinute: 6,
    });
    expect(value(readAlertSettings('', '', '60'))).toEqual({ quietFrom: null, quietTo: null, perMinute: 60 });
    expect(problemOf(readAlertSettings('22:00', '', '6'))).toMatch(/horário silencioso/);
    for (const bad of ['0', '61', '', '2.5'])
      expect(problemOf(readAlertSettings('', '', bad)), bad).toBeDefined();
  });
});
