import { describe, expect, it } from 'vitest';
import { say, setLang } from '../i18n/i18n.ts';
import { gapNotice } from './gapNotice.ts';

const said = (reason: string, tickers: readonly string[]) => {
  const notice = gapNotice(reason, tickers);
  return notice && say(notice);
};

describe('gapNotice', () => {
  it('names the tickers and the gap for a catch-up that could not replay, and nothing otherwise', () => {
    setLang('en');
    expect(said('gap_too_large', ['PETR4'])).toMatch(/^PETR4: .*could not be replayed.*has a gap$/);
    expect(said('rewound', ['PETR4', 'VALE3'])).toMatch(/^PETR4, VALE3: the server restarted/);
    expect(said('gap_too_large', ['A1', 'B2', 'C3', 'D4', 'E5', 'F6'])).toMatch(
      /^A1, B2, C3, D4 and 2 more: /,
    );
    setLang('pt');
    expect(said('gap_too_large', ['A1', 'B2', 'C3', 'D4', 'E5', 'F6'])).toMatch(
      /^A1, B2, C3, D4 e mais 2: .*lacuna$/,
    );
    expect(gapNotice('subscribe', ['PETR4'])).toBeUndefined();
    expect(gapNotice('conflated', ['PETR4'])).toBeUndefined();
    expect(gapNotice('gap_too_large', [])).toBeUndefined();
  });
});
