import { describe, expect, it } from 'vitest';
import { say, setLang } from '../i18n/i18n.ts';
import { adminEnd, NOTICES } from './closeReasons.ts';

describe('adminEnd', () => {
  it('ends the session with a notice when an admin disabled the account or signed it out', () => {
    expect(adminEnd(4401, 'account_disabled: an admin disabled this account')).toEqual({
      kind: 'signed_out',
      notice: NOTICES.account_disabled,
    });
    expect(adminEnd(4401, 'signed_out: an admin signed this user out everywhere')).toEqual({
      kind: 'signed_out',
      notice: NOTICES.signed_out,
    });
    expect(adminEnd(4401, 'password_reset: an admin reset this password; sign in with the new one')).toEqual({
      kind: 'signed_out',
      notice: NOTICES.password_reset,
    });
  });

  it('says the notice in the language chosen when it is shown', () => {
    setLang('en');
    expect(say(NOTICES.password_reset)).toBe('An admin reset your password: sign in with the new one');
    setLang('pt');
    expect(say(NOTICES.password_reset)).toBe('Um administrador redefiniu sua senha: entre com a nova');
  });

  it('renews the session when the role or the trading account changed', () => {
    expect(adminEnd(4401, "role_changed: an admin changed this user's role; connect again")).toEqual({
      kind: 'renew',
    });
    expect(
      adminEnd(4401, "account_changed: an admin changed this user's trading account; connect again"),
    ).toEqual({ kind: 'renew' });
  });

  it('leaves every other close to the reconnect: an expired token, other codes, unknown reasons', () => {
    expect(adminEnd(4401, 'token expired')).toBeUndefined();
    expect(adminEnd(4401, '')).toBeUndefined();
    expect(adminEnd(4401, 'account_disabled')).toBeUndefined(); // no colon: not the admin's form
    expect(adminEnd(4401, 'something_else: text')).toBeUndefined();
    expect(adminEnd(4403, 'account_disabled: an admin disabled this account')).toBeUndefined();
    expect(adminEnd(1006, '')).toBeUndefined();
  });

  it('reads the code only at the start of the reason', () => {
    expect(adminEnd(4401, 'expired; not account_disabled: really')).toBeUndefined();
  });
});
