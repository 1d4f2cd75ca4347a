// Per-user token bucket for questions: `burst` at once, then `perMinute` sustained. A refusal
// says when the next token comes, for the 429's Retry-After.

export interface RateLimit {
  readonly perMinute: number;
  readonly burst: number;
}

export type Take = { readonly ok: true } | { readonly ok: false; readonly retryAfterS: number };

export function rateLimiter(limit: RateLimit, now: () => number = Date.now) {
  const buckets = new Map<number, { tokens: number; at: number }>();
  const perMs = limit.perMinute / 60_000;
  return {
    take(userId: number): Take {
      const t = now();
      const b = buckets.get(userId) ?? { tokens: limit.burst, at: t };
      const tokens = Math.min(limit.burst, b.tokens + Math.max(0, t - b.at) * perMs);
      if (tokens >= 1) {
        buckets.set(userId, { tokens: tokens - 1, at: t });
        return { ok: true };
      }
      buckets.set(userId, { tokens, at: t });
      return { ok: false, retryAfterS: Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)) };
    },
  };
}
