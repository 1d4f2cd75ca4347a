import { describe, expect, it } from 'vitest';
import { notBeforeSecond, Revocations } from './revocations.ts';
import { AuthFailure, TokenSigner } from './tokens.ts';

const SECRET = 'revocations-test-secret-of-32-characters';
const T = new Date(1_800_000_000_400); // a sign-out 400 ms into its second

const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return 'accepted';
};

describe('revocations', () => {
  it("refuses a signed-out user's tokens of that second or before, and takes those issued from the next", async () => {
    const revocations = new Revocations([{ userId: 7, disabled: false, tokensNotBefore: T.getTime() }]);
    const signer = new TokenSigner(SECRET, 900);
    const user = { userId: 7, username: 'ana', role: 'trader' as const };
    const now = Math.floor(Date.now() / 1000);
    // Tokens are compared by their whole-second iat, which need not be now.
    const at = async (iat: number) => {
      const token = await signer.sign(user, 'api', now - iat + 900, iat);
      return refusal(() => signer.verify(token, 'api', revocations.check));
    };
    const second = Math.floor(T.getTime() / 1000);
    expect(await at(second - 1)).toBe(AuthFailure.revoked);
    expect(await at(second)).toBe(AuthFailure.revoked);
    expect(notBeforeSecond(T)).toBe(second + 1);
    expect(await at(notBeforeSecond(T))).toBe('accepted');
    expect(notBeforeSecond(null)).toBe(0);
    // Tickets carry milliseconds: the change's own one counts as before it.
    expect(refusal(() => revocations.check(7, T.getTime()))).toBe(AuthFailure.revoked);
    expect(refusal(() => revocations.check(7, T.getTime() + 1))).toBe('accepted');
    // Other users are not concerned.
    expect(refusal(() => revocations.check(8, 0))).toBe('accepted');
  });

  it('refuses every credential of a disabled user, and forgets a user once nothing of it is refused', () => {
    const revocations = new Revocations([{ userId: 3, disabled: true, tokensNotBefore: null }]);
    expect(refusal(() => revocations.check(3, Date.now() + 60_000))).toBe(AuthFailure.accountDisabled);
    revocations.set({ userId: 3, disabled: false, tokensNotBefore: T.getTime() });
    expect(refusal(() => revocations.check(3, T.getTime() - 1))).toBe(AuthFailure.revoked);
    expect(refusal(() => revocations.check(3, T.getTime() + 1))).toBe('accepted');
    revocations.set({ userId: 3, disabled: false, tokensNotBefore: null });
    expect(refusal(() => revocations.check(3, 0))).toBe('accepted');
  });
});
