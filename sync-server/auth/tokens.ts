import { createHmac, timingSafeEqual } from 'node:crypto';
import { SignJWT } from 'jose';
import { ROLES, type Role } from '../shared/admin.ts';

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
  ticketInvalid: 'ticket_invalid',
  ticketExpired: 'ticket_expired',
  ticketUsed: 'ticket_used',
  /** Signed in as a disabled user, or with a token of one (auth/revocations.ts). */
  accountDisabled: 'account_disabled',
  /** A token issued before its user was signed out everywhere or changed role. */
  revoked: 'token_revoked',
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

/** Throws AuthError when the user's credentials issued at `issuedAt` (ms) are no longer good. */
export type RevocationCheck = (userId: number, issuedAt: number) => void;

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

  /**
   * `issuedAt` (whole seconds since the epoch) may be up to a second ahead: a token issued in the
   * second its user was signed out must read as after it (revocations.ts notBeforeSecond).
   */
  async sign(
    p: Principal,
    scope = 'api',
    ttlSeconds = this.ttlSeconds,
    issuedAt = Math.floor(Date.now() / 1000),
  ): Promise<string> {
    return new SignJWT({ role: p.role, name: p.username, scope })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(String(p.userId))
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + ttlSeconds)
      .sign(this.key);
  }

  /**
   * Verifies signature, issuer, audience, expiry and scope; throws AuthError with the reason.
   *
   * Synchronous on purpose: a WebSocket upgrade must complete inside uWS's upgrade handler. An
   * upgrade finished later, under `res.cork`, can have uWS close the new socket at once without
   * a close frame (uNetworking/uWebSockets#1928: cork() misreads the reallocated socket), which
   * clients saw as a rare 1006. HS256 is the only algorithm: the header must name it.
   * `revoked` is asked last, with the user and when the token was issued (ms; 0 without `iat`),
   * and throws when the user's tokens of that age no longer count.
   */
  verify(
    token: string | undefined,
    scope = 'api',
    revoked?: RevocationCheck,
  ): Principal & { expiresAt: number } {
    if (!token) throw new AuthError(AuthFailure.missing, 'Sign in: this request needs an access token');
    const payload = this.claims(token);
    const now = Math.floor(Date.now() / 1000);
    if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp)) throw invalid();
    if (payload.exp <= now) {
      throw new AuthError(AuthFailure.expired, 'The access token has expired: refresh it or sign in again');
    }
    if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > now)) throw invalid();
    if (payload.iat !== undefined && typeof payload.iat !== 'number') throw invalid();
    const audience = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (payload.iss !== ISSUER || !audience.includes(AUDIENCE)) throw invalid();
    const role = payload.role as Role;
    const userId = Number(payload.sub);
    if (
      !ROLES.includes(role) ||
      typeof payload.sub !== 'string' ||
      !Number.isSafeInteger(userId) ||
      typeof payload.name !== 'string'
    ) {
      throw new AuthError(AuthFailure.invalid, 'The access token is malformed: sign in again');
    }
    if (payload.scope !== scope) {
      throw new AuthError(AuthFailure.invalid, `The access token is not valid for ${scope}`);
    }
    revoked?.(userId, typeof payload.iat === 'number' ? payload.iat * 1000 : 0);
    return { userId, username: payload.name, role, expiresAt: payload.exp * 1000 };
  }

  /** The payload of a compact JWS signed with this key under HS256, or AuthError. */
  private claims(token: string): Record<string, unknown> {
    const parts = token.split('.');
    if (parts.length !== 3 || !parts.every((x) => BASE64URL.test(x))) throw invalid();
    const [head, body, signature] = parts as [string, string, string];
    const expected = Buffer.from(
      createHmac('sha256', this.key).update(`${head}.${body}`).digest('base64url'),
    );
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
    const header = json(head);
    // `crit` names extensions the verifier must understand; this one understands none.
    if (header?.alg !== 'HS256' || header.crit !== undefined) throw invalid();
    const payload = json(body);
    if (!payload) throw invalid();
    return payload;
  }
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

const invalid = () => new AuthError(AuthFailure.invalid, 'The access token is not valid: sign in again');

/** A base64url JSON object, or undefined. */
function json(part: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
