import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OpenLetterCount } from './openCount.ts';

describe('OpenLetterCount', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const counter = (read: () => Promise<number>) => {
    const changes: number[] = [];
    let reads = 0;
    const count = new OpenLetterCount(
      () => {
        reads++;
        return read();
      },
      (open) => changes.push(open),
      1_000,
    );
    return { count, changes, reads: () => reads };
  };

  it('reads only while watched, at most once a second, and reports changes only', async () => {
    let open = 3;
    const { count, changes, reads } = counter(async () => open);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(reads()).toBe(0);

    count.watch();
    count.watch();
    await vi.advanceTimersByTimeAsync(0);
    expect(changes).toEqual([3]);
    expect(count.last).toBe(3);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(reads()).toBe(4); // at once, then once a second
    expect(changes).toEqual([3]);
    open = 5;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(changes).toEqual([3, 5]);

    count.unwatch();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(reads()).toBe(7); // one watcher left
    count.unwatch();
    expect(count.last).toBeUndefined();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(reads()).toBe(7);
    count.unwatch(); // more leaving than came: nothing to undo
    count.watch();
    await vi.advanceTimersByTimeAsync(0);
    // Forgotten while nobody watched: the next watcher is told again.
    expect(changes).toEqual([3, 5, 5]);
    count.stop();
  });

  it('keeps the last count while the database fails, and never reads twice at once', async () => {
    let answer: Promise<number> = Promise.resolve(2);
    const { count, changes, reads } = counter(() => answer);
    count.watch();
    await vi.advanceTimersByTimeAsync(0);
    answer = Promise.reject(new Error('database down'));
    answer.catch(() => {});
    await vi.advanceTimersByTimeAsync(2_000);
    expect(changes).toEqual([2]);
    expect(count.last).toBe(2);
    // A read that takes 3 s: the ticks meanwhile wait for it.
    let release: (n: number) => void = () => {};
    answer = new Promise((r) => {
      release = r;
    });
    const before = reads();
    await vi.advanceTimersByTimeAsync(3_500);
    expect(reads()).toBe(before + 1);
    release(9);
    await vi.advanceTimersByTimeAsync(0);
    expect(changes).toEqual([2, 9]);
    count.stop();
  });
});
