import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SocketTickets, TICKET_TTL_S, type TicketPrincipal } from './tickets.ts';
import { AuthError, AuthFailure } from './tokens.ts';

const SECRET = 'ticket-test-secret-of-at-least-32-characters';
const T0 = 1_800_000_000_000;

/** Tickets on a clock the test moves. */
function clocked() {
  const clock = { now: T0 };
  return { clock, tickets: new SocketTickets(SECRET, () => clock.now) };
}

const trader: TicketPrincipal = { userId: 7, username: 'ana.souza', role: 'trader', expiresAt: T0 + 900_000 };

const failure = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    if (err instanceof AuthError) return err.code;
    throw err;
  }
  return 'accepted';
};

describe('socket tickets', () => {
  it("carry the user, the role and the access token's expiry, once", () => {
    const { tickets } = clocked();
    const { ticket, expiresInS } = tickets.mint(trader);
    expect(expiresInS).toBe(TICKET_TTL_S);
    expect(TICKET_TTL_S).toBeLessThanOrEqual(30);
    expect(tickets.redeem(ticket)).toEqual(trader);
    expect(failure(() => tickets.redeem(ticket))).toBe(AuthFailure.ticketUsed);
    // Another ticket of the same user is another ticket.
    expect(tickets.redeem(tickets.mint(trader).ticket)).toEqual(trader);
  });

  it('expire 30 s after they are minted, used or not', () => {
    const { clock, tickets } = clocked();
    const a = tickets.mint(trader).ticket;
    const b = tickets.mint(trader).ticket;
    clock.now = T0 + TICKET_TTL_S * 1000 - 1;
    expect(tickets.redeem(a)).toEqual(trader);
    clock.now = T0 + TICKET_TTL_S * 1000;
    expect(failure(() => tickets.redeem(b))).toBe(AuthFailure.ticketExpired);
    // Used and then expired: still refused once its nonce is forgotten.
    clock.now += 3_600_000;
    expect(failure(() => tickets.redeem(a))).toBe(AuthFailure.ticketExpired);
  });

  it('never outlive the access token that minted them', () => {
    const { clock, tickets } = clocked();
    const soon = { ...trader, expiresAt: T0 + 10_000 };
    const { ticket, expiresInS } = tickets.mint(soon);
    expect(expiresInS).toBe(10);
    clock.now = T0 + 10_000;
    expect(failure(() => tickets.redeem(ticket))).toBe(AuthFailure.ticketExpired);
  });

  it('are refused when forged, edited or missing', () => {
    const { tickets } = clocked();
    const other = new SocketTickets('another-secret-of-at-least-32-characters!', () => T0);
    expect(failure(() => tickets.redeem(other.mint(trader).ticket))).toBe(AuthFailure.ticketInvalid);
    // The role (or anyone's id) cannot be edited in: the MAC covers the whole body.
    const [body, mac] = tickets.mint(trader).ticket.split('.') as [string, string];
    const admin = Buffer.from(
      Buffer.from(body, 'base64url').toString().replace('.trader.', '.admin.'),
    ).toString('base64url');
    expect(failure(() => tickets.redeem(`${admin}.${mac}`))).toBe(AuthFailure.ticketInvalid);
    expect(failure(() => tickets.redeem(undefined))).toBe(AuthFailure.missing);
    expect(failure(() => tickets.redeem(''))).toBe(AuthFailure.missing);
    // What a URL must not carry: nothing in a ticket reads as a JWT.
    expect(tickets.mint(trader).ticket).not.toMatch(/eyJ/);
  });

  it('refuse any damaged or arbitrary string with an AuthError, and accept no other principal', () => {
    const { tickets } = clocked();
    const chars = fc.constantFrom(
      ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=%+/ ',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string({ unit: chars }),
          fc
            .tuple(fc.nat(), fc.nat(), fc.string({ unit: chars, minLength: 1, maxLength: 3 }))
            .map(([at, len, s]) => {
              const t = tickets.mint(trader).ticket;
              const i = at % t.length;
              return t.slice(0, i) + s + t.slice(i + (len % 4));
            }),
        ),
        (candidate) => {
          let accepted: TicketPrincipal | undefined;
          try {
            accepted = tickets.redeem(candidate);
          } catch (err) {
            expect(err).toBeInstanceOf(AuthError);
            return;
          }
          // A change only to base64's unused last bits decodes to the same ticket: the same principal.
          expect(accepted).toEqual(trader);
        },
      ),
      { numRuns: 3_000 },
    );
  });
});
