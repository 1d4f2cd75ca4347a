import { type Message, msg } from '../i18n/i18n.ts';

// What a 4401 close from the server means for the session (protocol.md, "Closed by an admin"):
// the reason starts with a code, then a sentence. Both /ws and /yjs close this way.

export const TOKEN_CLOSE = 4401;

export type AdminEnd =
  /** The session is over: sign out and say why. */
  | { readonly kind: 'signed_out'; readonly notice: Message }
  /**
   * The role or the trading account changed: renew the session (the refresh token carries the
   * new role; the next /ws joins the new account's pushes) and go on.
   */
  | { readonly kind: 'renew' };

/** What the sign-in screen says after an admin ended the session. */
export const NOTICES = {
  account_disabled: msg('session.accountDisabled'),
  signed_out: msg('session.signedOut'),
  password_reset: msg('session.passwordReset'),
} as const;

/**
 * The admin's action behind a close, or undefined for any other close (a 4401 without a known
 * code is an expired token: the next connection renews it, as before).
 */
export function adminEnd(code: number, reason: string): AdminEnd | undefined {
  if (code !== TOKEN_CLOSE) return undefined;
  const name = /^([a-z_]+):/.exec(reason)?.[1];
  if (name === 'account_disabled' || name === 'signed_out' || name === 'password_reset')
    return { kind: 'signed_out', notice: NOTICES[name] };
  if (name === 'role_changed' || name === 'account_changed') return { kind: 'renew' };
  return undefined;
}
