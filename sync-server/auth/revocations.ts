import { AuthError, AuthFailure, type RevocationCheck } from './tokens.ts';

// Credentials that stop working before they expire: every token and socket ticket of a disabled
// user, and those issued before a user's `tokensNotBefore` (a sign-out everywhere, a disable, a
// role change). Held in memory, so the synchronous verify (tokens.ts) can ask; loaded from the
// users at start and told of every change this process makes. Another process learns of a
// change at its next start: until then only its refresh is refused (the tokens are in the
// database), so what it already issued lives out its access token's TTL (security.md).

export interface Revocation {
  readonly userId: number;
  readonly disabled: boolean;
  /** Credentials issued before this (ms since the epoch), or in that ms, are refused; null: none are. */
  readonly tokensNotBefore: number | null;
}

export class Revocations {
  private readonly users = new Map<number, Revocation>();

  constructor(initial: Iterable<Revocation> = []) {
    for (const r of initial) this.set(r);
  }

  set(r: Revocation): void {
    if (r.disabled || r.tokensNotBefore !== null) this.users.set(r.userId, r);
    else this.users.delete(r.userId);
  }

  /** Whether the user is disabled (nothing of theirs is served, nor pushed to their devices). */
  disabled(userId: number): boolean {
    return this.users.get(userId)?.disabled === true;
  }

  /** Throws AuthError when the user's credentials issued at `issuedAt` (ms) no longer count. */
  readonly check: RevocationCheck = (userId, issuedAt) => {
    const r = this.users.get(userId);
    if (!r) return;
    if (r.disabled) {
      throw new AuthError(AuthFailure.accountDisabled, 'This account is disabled: ask an admin');
    }
    // A token's `iat` is in whole seconds: one of the change's second reads as before it (new
    // ones are issued from notBeforeSecond on), and a ticket minted in its millisecond too.
    if (r.tokensNotBefore !== null && issuedAt <= r.tokensNotBefore) {
      throw new AuthError(
        AuthFailure.revoked,
        'This token predates a sign-out or a role change by an admin: refresh the session or sign in again',
      );
    }
  };
}

/**
 * The first whole second (since the epoch) a token of a user whose credentials count from
 * `tokensNotBefore` may say it was issued in: the one after it.
 */
export const notBeforeSecond = (tokensNotBefore: Date | null): number =>
  tokensNotBefore === null ? 0 : Math.floor(tokensNotBefore.getTime() / 1000) + 1;
