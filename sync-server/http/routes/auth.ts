import { z } from 'zod';
import type { AuthService } from '../../auth/service.ts';
import type { TicketPrincipal } from '../../auth/tickets.ts';
import { fullBucket, type Rate, secondsUntilToken, type TokenBucket, takeToken } from '../../tokenBucket.ts';
import { ok, type Reply, type Route } from '../types.ts';

const credentials = z.object({ username: z.string().min(1).max(100), password: z.string().min(1).max(200) });
const refresh = z.object({ refreshToken: z.string().min(1).max(200) });

/**
 * Failed sign-ins allowed per client address: a burst, then a steady trickle. A sign-in that
 * succeeds costs nothing, so only guessing (and floods, each attempt a scrypt) is slowed.
 */
export const LOGIN_FAILURES: Rate = { burst: 20, perSecond: 20 / 60 };
const MAX_TRACKED_ADDRESSES = 10_000;

/** Per-address budget of failed sign-ins; an attempt reserves one, a success gives it back. */
export function loginThrottle(rate: Rate = LOGIN_FAILURES, now: () => number = Date.now) {
  const buckets = new Map<string, TokenBucket>();
  return {
    /** Reserves an attempt: 0, or the seconds to wait when the address has none left. */
    take(address: string): number {
      const t = now();
      const b = buckets.get(address) ?? fullBucket(rate, t);
      const spent = takeToken(b, rate, t);
      if (!spent) return secondsUntilToken(b, rate, t);
      if (!buckets.has(address) && buckets.size >= MAX_TRACKED_ADDRESSES) {
        // Memory stays bounded: forget the addresses whose budget has refilled, else the oldest.
        for (const [k, v] of buckets) {
          if (v.tokens + ((t - v.at) / 1000) * rate.perSecond >= rate.burst) buckets.delete(k);
        }
        const oldest = buckets.keys().next();
        if (buckets.size >= MAX_TRACKED_ADDRESSES && !oldest.done) buckets.delete(oldest.value);
      }
      buckets.set(address, spent);
      return 0;
    },
    /** The attempt succeeded: its reservation is returned. */
    succeeded(address: string): void {
      const b = buckets.get(address);
      if (b) buckets.set(address, { tokens: Math.min(rate.burst, b.tokens + 1), at: b.at });
    },
  };
}

export function authRoutes(auth: AuthService, throttle = loginThrottle()): Route[] {
  return [
    {
      method: 'post',
      path: '/api/v1/auth/login',
      access: 'public',
      async handle(req): Promise<Reply> {
        const { username, password } = credentials.parse(req.body);
        const address = req.remoteAddress ?? 'unknown';
        const wait = throttle.take(address);
        if (wait > 0) {
          return {
            status: 429,
            headers: { 'Retry-After': String(wait) },
            json: {
              error: 'rate_limited',
              message: `Too many failed sign-ins from your address: try again in ${wait} s`,
              retryAfterS: wait,
            },
          };
        }
        const session = await auth.login(username, password, address);
        throttle.succeeded(address);
        return ok(session);
      },
    },
    {
      method: 'post',
      path: '/api/v1/auth/refresh',
      access: 'public',
      async handle(req) {
        return ok(await auth.refresh(refresh.parse(req.body).refreshToken));
      },
    },
    {
      method: 'post',
      path: '/api/v1/auth/logout',
      access: 'public',
      async handle(req) {
        await auth.logout(refresh.parse(req.body).refreshToken);
        return { status: 204 };
      },
    },
    {
      // A one-time ticket for a WebSocket URL (auth/tickets.ts): the app's access token never
      // goes in a URL. Bound to this user, role and token expiry; single use, ≤ 30 s.
      method: 'post',
      path: '/api/v1/auth/socket-ticket',
      access: ['admin', 'trader', 'viewer'],
      handle: (req) => ok(auth.tickets.mint(req.principal as TicketPrincipal)),
    },
    {
      method: 'get',
      path: '/api/v1/me',
      access: ['admin', 'trader', 'viewer'],
      handle: (req) => ok({ user: req.principal }),
    },
  ];
}
