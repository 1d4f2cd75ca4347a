import { fullBucket, type Rate, secondsUntilToken, type TokenBucket, takeToken } from '../tokenBucket.ts';

// Per-user token bucket for questions: `burst` at once, then `perMinute` sustained. A refusal
// says when the next token comes, for the 429's Retry-After.

export interface RateLimit {
  readonly perMinute: number;
  readonly burst: number;
}

export type Take = { readonly ok: true } | { readonly ok: false; readonly retryAfterS: number };

export function rateLimiter(limit: RateLimit, now: () => number = Date.now) {
  const buckets = new Map<number, TokenBucket>();
  const rate: Rate = { perSecond: limit.perMinute / 60, burst: limit.burst };
  return {
    take(userId: number): Take {
      const t = now();
      const b = buckets.get(userId) ?? fullBucket(rate, t);
      const spent = takeToken(b, rate, t);
      if (spent) {
        buckets.set(userId, spent);
        return { ok: true };
      }
      return { ok: false, retryAfterS: secondsUntilToken(b, rate, t) };
    },
  };
}
