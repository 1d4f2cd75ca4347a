// A screen that follows 1,000 trades/s need not paint 60 times a second: rows that scroll by in
// 16 ms are read by nobody, and each repaint of a moving table costs the main thread.

export interface Paced {
  (): void;
  /** Drops a call waiting for its turn (the view is going away). */
  cancel(): void;
}

/**
 * `fn` at most once every `ms`: at once when the last run is that old, otherwise once when the
 * wait is over, every call in between folded into that one run. Nothing is dropped: the last
 * call is always followed by a run.
 */
export function paced(fn: () => void, ms: number, now: () => number = Date.now): Paced {
  let last = Number.NEGATIVE_INFINITY;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const run = () => {
    timer = undefined;
    last = now();
    fn();
  };
  const call = () => {
    if (timer !== undefined) return;
    const wait = last + ms - now();
    if (wait <= 0) run();
    else timer = setTimeout(run, wait);
  };
  call.cancel = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  return call;
}
