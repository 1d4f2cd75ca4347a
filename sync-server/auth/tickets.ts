import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ROLES, type Role } from '../shared/admin.ts';
import { AuthError, AuthFailure, type Principal, type RevocationCheck } from './tokens.ts';

// One-time socket tickets: what the app puts in a WebSocket URL (`/ws?ticket=`, `/yjs/<room>?ticket=`)
// instead of its access token, which would otherwise show in the browser console on every failed
// connect and in any proxy's access log. A ticket is minted by an authenticated REST call, lives
// at most TICKET_TTL_S, opens one socket, and carries the user, the role and when the access token
// that minted it expires: the socket lives no longer than that token, as one opened with the token
// itself would (it is renewed over the socket, never through the URL).
//
// Tickets are signed (HMAC-SHA256 under a key derived from the JWT secret), not stored: any process
// sharing the secret verifies one synchronously, inside uWS's upgrade handler (tokens.ts says why
// it must be synchronous). "Used" is remembered per process until the ticket expires.

export const TICKET_TTL_S = 30;

export type TicketPrincipal = Principal & { readonly expiresAt: number };

const SEP = '.';
const b64 = (s: string) => Buffer.from(s).toString('base64url');

export class SocketTickets {
  private readonly key: Buffer;
  /** Nonces of redeemed tickets → when the ticket expires (ms); forgotten after that. */
  private readonly spent = new Map<string, number>();

  constructor(
    secret: string,
    private readonly now: () => number = Date.now,
    private readonly ttlS = TICKET_TTL_S,
  ) {
    // Its own key: a ticket's MAC can never pass for a JWT signature, nor the other way round.
    this.key = createHmac('sha256', secret).update('tape socket ticket v1').digest();
  }

  /** A ticket for `p`, valid for TICKET_TTL_S or until p's access token expires, if sooner. */
  mint(p: TicketPrincipal): { ticket: string; expiresInS: number } {
    const now = this.now();
    const until = Math.min(now + this.ttlS * 1000, p.expiresAt);
    const nonce = randomBytes(16).toString('base64url');
    const body = [p.userId, p.role, p.expiresAt, until, nonce, b64(p.username), now].join(SEP);
    const ticket = `${b64(body)}${SEP}${this.mac(body)}`;
    return { ticket, expiresInS: Math.max(0, Math.floor((until - now) / 1000)) };
  }

  /**
   * The ticket's principal, once: a second use, an expired, forged or damaged ticket throws
   * AuthError, and so does `revoked` (asked with the user and when the ticket was minted).
   */
  redeem(ticket: string | undefined, revoked?: RevocationCheck): TicketPrincipal {
    if (!ticket) throw new AuthError(AuthFailure.missing, 'Sign in: this socket needs a ticket');
    const [encoded, mac, extra] = ticket.split(SEP);
    if (encoded === undefined || mac === undefined || extra !== undefined) throw invalid();
    const body = Buffer.from(encoded, 'base64url').toString('utf8');
    const expected = Buffer.from(this.mac(body));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
    const [userId, role, expiresAt, until, nonce, name, minted] = body.split(SEP);
    const principal = {
      userId: Number(userId),
      role: role as Role,
      expiresAt: Number(expiresAt),
      username: Buffer.from(name ?? '', 'base64url').toString('utf8'),
    };
    if (!Number.isSafeInteger(principal.userId) || !ROLES.includes(principal.role) || !nonce) throw invalid();
    const now = this.now();
    this.forgetExpired(now);
    if (!(Number(until) > now)) {
      throw new AuthError(AuthFailure.ticketExpired, 'The socket ticket has expired: ask for a new one');
    }
    if (this.spent.has(nonce)) {
      throw new AuthError(AuthFailure.ticketUsed, 'The socket ticket was used already: ask for a new one');
    }
    revoked?.(principal.userId, Number(minted) || 0);
    this.spent.set(nonce, Number(until));
    return principal;
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }

  /**
   * Expired tickets are refused as expired: their nonces need not be remembered. Nonces go in
   * about the order they expire (each within TICKET_TTL_S of its redemption), so the sweep stops
   * at the first one still valid; one expiring early waits for those before it.
   */
  private forgetExpired(now: number) {
    for (const [nonce, until] of this.spent) {
      if (until > now) break;
      this.spent.delete(nonce);
    }
  }
}

const invalid = () =>
  new AuthError(AuthFailure.ticketInvalid, 'The socket ticket is not valid: ask for a new one');
