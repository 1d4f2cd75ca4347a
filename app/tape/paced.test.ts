import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { paced } from './paced.ts';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('paced', () => {
  it('runs at once, then at most once per interval, the calls between folded into one run', () => {
    const fn = vi.fn();
    const p = paced(fn, 100);
    p();
    expect(fn).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(16); // a call per animation frame
      p();
    }
    // 160 ms of calls: the one at once, the one at 100 ms, one waiting for 200 ms.
    expect(fn).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(40);
    expect(fn).toHaveBeenCalledTimes(3);
    vi.advanceTimersByTime(1_000);
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it('always runs after the last call, so the last change is shown', () => {
    const fn = vi.fn();
    const p = paced(fn, 100);
    p();
    vi.advanceTimersByTime(30);
    p();
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(70);
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('runs at once again after a quiet interval, and runs nothing once cancelled', () => {
    const fn = vi.fn();
    const p = paced(fn, 100);
    p();
    vi.advanceTimersByTime(500);
    p();
    expect(fn).toHaveBeenCalledTimes(2);
    p();
    p.cancel();
    vi.advanceTimersByTime(500);
    expect(fn).toHaveBeenCalledTimes(2);
  });
});
