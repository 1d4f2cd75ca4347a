import { describe, expect, it } from 'vitest';
import { rateLimiter } from './rateLimit.ts';

describe('rateLimiter', () => {
  it('allows the burst, then refuses with the wait until the next token, per user', () => {
    let t = 0;
    const l = rateLimiter({ perMinute: 6, burst: 2 }, () => t);
    expect(l.take(1)).toEqual({ ok: true });
    expect(l.take(1)).toEqual({ ok: true });
    expect(l.take(1)).toEqual({ ok: false, retryAfterS: 10 });
    expect(l.take(2)).toEqual({ ok: true }); // another user has a bucket of their own
    t = 4_000;
    expect(l.take(1)).toEqual({ ok: false, retryAfterS: 6 });
    t = 10_000;
    expect(l.take(1)).toEqual({ ok: true });
    t = 1_000_000;
    expect(l.take(1)).toEqual({ ok: true });
    expect(l.take(1)).toEqual({ ok: true });
    expect(l.take(1).ok).toBe(false); // refilled to the burst, not beyond
  });
});
