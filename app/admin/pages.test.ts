import { describe, expect, it } from 'vitest';
import type { DeadLetterJson } from '../../sync-server/shared/admin.ts';
import { setLang } from '../i18n/i18n.ts';
import {
  afterRedrive,
  batches,
  instant,
  NO_AUDIT_FILTER,
  NO_LETTER_FILTER,
  outcomeText,
  pageQuery,
} from './pages.ts';

const letter: DeadLetterJson = {
  id: 7,
  source: 'profitdll.trade',
  reason: 'bad_price',
  detail: 'price 0',
  payload: { price: 0 },
  attempts: 1,
  firstSeen: '2026-12-02T13:00:00.000Z',
  lastSeen: '2026-12-02T13:00:00.000Z',
  resolvedAt: null,
  resolution: null,
};
const NOW = '2026-12-02T14:00:00.000Z';

describe('pageQuery', () => {
  it('sends only the fields given, trimmed, with the cursor and the page size', () => {
    expect(pageQuery(NO_LETTER_FILTER, undefined)).toBe('status=open&limit=100');
    expect(pageQuery({ ...NO_LETTER_FILTER, source: ' profitdll.trade ', status: 'all' }, 'abc', 50)).toBe(
      'source=profitdll.trade&status=all&cursor=abc&limit=50',
    );
    expect(pageQuery({ ...NO_AUDIT_FILTER, actor: 'admin', target: 'user:3' }, undefined)).toBe(
      'actor=admin&target=user%3A3&limit=100',
    );
  });

  it('sends times as instants and leaves out a time that is not one', () => {
    const q = new URLSearchParams(
      pageQuery({ ...NO_AUDIT_FILTER, from: '2026-12-02T10:30', to: 'yesterday' }, undefined),
    );
    expect(q.get('from')).toBe(new Date('2026-12-02T10:30').toISOString());
    expect(q.has('to')).toBe(false);
    expect(instant('')).toBeUndefined();
    expect(instant('  ')).toBeUndefined();
  });
});

describe('batches', () => {
  it('cuts a selection into requests of at most the batch size, in order', () => {
    expect(batches([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(batches([], 2)).toEqual([]);
    expect(batches(Array.from({ length: 250 }, (_, i) => i)).map((b) => b.length)).toEqual([100, 100, 50]);
  });
});

describe('afterRedrive', () => {
  it('shows a redriven letter resolved', () => {
    expect(afterRedrive(letter, { id: 7, outcome: 'redriven' }, NOW)).toMatchObject({
      resolvedAt: NOW,
      resolution: 'redriven',
    });
  });

  it('counts a refused redrive as an attempt, with the detail of this failure, its reason kept', () => {
    const o = {
      id: 7,
      outcome: 'refused',
      reason: 'unknown_ticker',
      message: 'XPTO3 is not on this feed',
    } as const;
    expect(afterRedrive(letter, o, NOW)).toMatchObject({
      attempts: 2,
      reason: 'bad_price',
      detail: 'XPTO3 is not on this feed',
      lastSeen: NOW,
      resolvedAt: null,
    });
  });

  it('leaves a letter as it is for another letter, no outcome, or one that changes nothing', () => {
    expect(afterRedrive(letter, { id: 8, outcome: 'redriven' }, NOW)).toBe(letter);
    expect(afterRedrive(letter, undefined, NOW)).toBe(letter);
    const o = { id: 7, outcome: 'not_redrivable', reason: 'not_redrivable', message: 'no' } as const;
    expect(afterRedrive(letter, o, NOW)).toBe(letter);
  });

  it('keeps when and how a letter found resolved was resolved', () => {
    const resolved = { ...letter, resolvedAt: '2026-12-02T13:30:00.000Z', resolution: 'redriven' };
    const o = { id: 7, outcome: 'already_resolved', reason: 'already_resolved', message: 'm' } as const;
    expect(afterRedrive(resolved, o, NOW)).toEqual(resolved);
    expect(afterRedrive(letter, o, NOW).resolvedAt).toBe(NOW);
  });
});

describe('outcomeText', () => {
  it('says what happened with the server message', () => {
    setLang('en');
    expect(outcomeText({ id: 1, outcome: 'redriven' })).toBe('Redriven: resolved');
    expect(outcomeText({ id: 1, outcome: 'refused', reason: 'bad_price', message: 'price 0' })).toBe(
      'Refused again (bad_price): price 0',
    );
    expect(
      outcomeText({ id: 1, outcome: 'not_found', reason: 'not_found', message: 'No dead letter 1' }),
    ).toBe('Not found: No dead letter 1');
  });
});
