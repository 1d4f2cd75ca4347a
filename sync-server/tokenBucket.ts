// The one token bucket: pure functions over an immutable state, so risk checks can stay pure
// and every caller keeps its buckets where it likes (per account, per socket, per user).

export interface TokenBucket {
  readonly tokens: number;
  /** When `tokens` was last computed, ms. */
  readonly at: number;
}

export interface Rate {
  /** Sustained tokens per second. */
  readonly perSecond: number;
  /** Tokens available at once. */
  readonly burst: number;
}

export const fullBucket = (rate: Rate, now: number): TokenBucket => ({ tokens: rate.burst, at: now });

/** The bucket refilled up to `now`. */
const refill = (b: TokenBucket, rate: Rate, now: number): number =>
  Math.min(rate.burst, b.tokens + (Math.max(0, now - b.at) / 1000) * rate.perSecond);

/** Refills, then takes one token: the spent bucket, or undefined when it is empty. */
export function takeToken(b: TokenBucket, rate: Rate, now: number): TokenBucket | undefined {
  const tokens = refill(b, rate, now);
  return tokens >= 1 ? { tokens: tokens - 1, at: now } : undefined;
}

/** Whole seconds until one token is there again (at least 1): a 429's Retry-After. */
export const secondsUntilToken = (b: TokenBucket, rate: Rate, now: number): number =>
  Math.max(1, Math.ceil((1 - refill(b, rate, now)) / rate.perSecond));
