import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { jwtVerify, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { AuthError, AuthFailure, TokenSigner } from './tokens.ts';

// The verifier is synchronous and written here (auth/tokens.ts says why); jose, which signs the
// tokens, is the reference it is checked against: on any token, damaged or not, both must agree.

const SECRET = 's'.repeat(40);
const KEY = new TextEncoder().encode(SECRET);
const signer = new TokenSigner(SECRET, 60);
const now = () => Math.floor(Date.now() / 1000);
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** jose's verdict under the same rules: HS256 only, issuer and audience `tape`, exp required. */
const joseAccepts = (token: string) =>
  jwtVerify(token, KEY, {
    issuer: 'tape',
    audience: 'tape',
    algorithms: ['HS256'],
    requiredClaims: ['exp'],
  }).then(
    () => true,
    () => false,
  );

const failure = (token: string | undefined, scope?: string) => {
  try {
    signer.verify(token, scope);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(AuthError);
    return (err as AuthError).code;
  }
};

const base = { role: 'trader', name: 'maria', scope: 'api', sub: '7' };

/** What can be wrong with a token; each generated token has none, one or two of these. */
const FAULTS: Record<string, (t: Draft) => void> = {
  issuer: (t) => {
    t.payload.iss = 'other';
  },
  noIssuer: (t) => {
    delete t.payload.iss;
  },
  audience: (t) => {
    t.payload.aud = ['x'];
  },
  noAudience: (t) => {
    delete t.payload.aud;
  },
  expired: (t) => {
    t.payload.exp = now() - 60;
  },
  expiresNow: (t) => {
    t.payload.exp = now();
  },
  noExpiry: (t) => {
    delete t.payload.exp;
  },
  expiryText: (t) => {
    t.payload.exp = String(now() + 60);
  },
  notYet: (t) => {
    t.payload.nbf = now() + 100;
  },
  nbfText: (t) => {
    t.payload.nbf = 'soon';
  },
  iatText: (t) => {
    t.payload.iat = 'then';
  },
  hs512: (t) => {
    t.header = { alg: 'HS512' };
  },
  none: (t) => {
    t.header = { alg: 'none' };
  },
  crit: (t) => {
    t.header = { alg: 'HS256', crit: ['exp'] };
  },
  noAlg: (t) => {
    t.header = { typ: 'JWT' };
  },
  otherKey: (t) => {
    t.key = 'o'.repeat(40);
  },
};

interface Draft {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  key: string;
}

/** A token made by hand (any header, claims or key), perhaps damaged after signing. */
const tokens = fc
  .record({
    faults: fc.subarray(Object.keys(FAULTS), { maxLength: 2 }),
    audience: fc.constantFrom<unknown>('tape', ['x', 'tape']),
    typ: fc.boolean(),
    iat: fc.boolean(),
    damage: fc.oneof(
      { weight: 3, arbitrary: fc.constant({ kind: 'none' as const }) },
      fc.record({
        kind: fc.constant('flip' as const),
        at: fc.nat(),
        to: fc.constantFrom('A', '_', '.', '=', '+'),
      }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('append' as const), text: fc.constantFrom('.', 'A', '.e30', '==') }),
    ),
  })
  .map(({ faults, audience, typ, iat, damage }) => {
    const t: Draft = {
      header: typ ? { alg: 'HS256', typ: 'JWT' } : { alg: 'HS256' },
      payload: { ...base, iss: 'tape', aud: audience, exp: now() + 60, ...(iat ? { iat: now() } : {}) },
      key: SECRET,
    };
    for (const f of faults) FAULTS[f]?.(t);
    const head = `${b64(t.header)}.${b64(t.payload)}`;
    const alg = t.header.alg === 'HS512' ? 'sha512' : 'sha256';
    const sig = t.header.alg === 'none' ? '' : createHmac(alg, t.key).update(head).digest('base64url');
    let token = `${head}.${sig}`;
    if (damage.kind === 'flip') {
      const i = damage.at % token.length;
      token = token.slice(0, i) + damage.to + token.slice(i + 1);
    } else if (damage.kind === 'cut') token = token.slice(0, damage.at % token.length);
    else if (damage.kind === 'append') token += damage.text;
    return token;
  });

describe('access tokens', () => {
  it('accepts exactly the tokens jose accepts under the same rules (property, damaged tokens too)', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(tokens, async (token) => {
        const ours = failure(token) === undefined;
        expect(ours).toBe(await joseAccepts(token));
        if (ours) accepted++;
      }),
      { numRuns: 3_000 },
    );
    // The generator reaches both answers: a verifier refusing everything would fail above.
    expect(accepted).toBeGreaterThan(20);
  });

  it('verifies its own tokens synchronously, with the principal, scope and expiry', async () => {
    const token = await signer.sign({ userId: 7, username: 'maria', role: 'trader' });
    const p = signer.verify(token);
    expect(p).toMatchObject({ userId: 7, username: 'maria', role: 'trader' });
    expect(p.expiresAt).toBeGreaterThan(Date.now());
    expect(p.expiresAt).toBeLessThanOrEqual(Date.now() + 61_000);
    expect(failure(token, 'refresh')).toBe(AuthFailure.invalid);
    expect(failure(await signer.sign({ userId: 7, username: 'maria', role: 'trader' }, 'yjs'))).toBe(
      AuthFailure.invalid,
    );
  });

  it('names an expired token expired, a missing one missing, and refuses malformed claims', async () => {
    const t = now();
    const sign = (payload: Record<string, unknown>) =>
      new SignJWT(payload)
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer('tape')
        .setAudience('tape')
        .sign(KEY);
    expect(failure(await sign({ ...base, exp: t - 1 }))).toBe(AuthFailure.expired);
    expect(failure(await sign({ ...base, exp: t }))).toBe(AuthFailure.expired);
    expect(failure(undefined)).toBe(AuthFailure.missing);
    expect(failure('')).toBe(AuthFailure.missing);
    expect(failure(await sign({ ...base, exp: t + 60 }))).toBeUndefined();
    for (const bad of [
      { role: 'root' },
      { sub: 'seven' },
      { sub: 7 },
      { sub: '9007199254740993' },
      { name: 3 },
      { scope: undefined },
    ]) {
      expect(failure(await sign({ ...base, exp: t + 60, ...bad }))).toBe(AuthFailure.invalid);
    }
  });
});
