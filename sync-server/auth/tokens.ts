import { errors, jwtVerify, SignJWT } from 'jose';

export const ROLES = ['admin', 'trader', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  readonly userId: number;
  readonly username: string;
  readonly role: Role;
}

/** Why a request was not authenticated; each is a 401 with this code. */
export const AuthFailure = {
  missing: 'token_missing',
  expired: 'token_expired',
  invalid: 'token_invalid',
  badCredentials: 'invalid_credentials',
  refreshInvalid: 'refresh_token_invalid',
} as const;
export type AuthFailureCode = (typeof AuthFailure)[keyof typeof AuthFailure];

export class AuthError extends Error {
  override name = 'AuthError';
  constructor(
    readonly code: AuthFailureCode,
    message: string,
  ) {
    super(message);
  }
}

const ISSUER = 'tape';
const AUDIENCE = 'tape';

export class TokenSigner {
  private readonly key: Uint8Array;
  constructor(
    secret: string,
    private readonly ttlSeconds: number,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  async sign(p: Principal, scope = 'api', ttlSeconds = this.ttlSeconds): Promise<string> {
    return new SignJWT({ role: p.role, name: p.username, scope })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(String(p.userId))
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${ttlSeconds}s`)
      .sign(this.key);
  }

  /** Verifies signature, issuer, audience, expiry and scope; throws AuthError with the reason. */
  async verify(token: string | undefined, scope = 'api'): Promise<Principal & { expiresAt: number }> {
    if (!token) throw new AuthError(AuthFailure.missing, 'Sign in: this request needs an access token');
    try {
      const { payload } = await jwtVerify(token, this.key, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['HS256'],
      });
      const role = payload.role as Role;
      const userId = Number(payload.sub);
      if (!ROLES.includes(role) || !Number.isSafeInteger(userId) || typeof payload.name !== 'string') {
        throw new AuthError(AuthFailure.invalid, 'The access token is malformed: sign in again');
      }
      if (payload.scope !== scope) {
        throw new AuthError(AuthFailure.invalid, `The access token is not valid for ${scope}`);
      }
      return { userId, username: payload.name, role, expiresAt: (payload.exp ?? 0) * 1000 };
    } catch (err) {
      if (err instanceof AuthError) throw err;
      if (err instanceof errors.JWTExpired) {
        throw new AuthError(AuthFailure.expired, 'The access token has expired: refresh it or sign in again');
      }
      throw new AuthError(AuthFailure.invalid, 'The access token is not valid: sign in again');
    }
  }
}
