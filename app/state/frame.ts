/**
 * Runs `fn` at the next animation frame, or in 250 ms while the tab is hidden (no frames then),
 * so what the stores queue between frames never piles up. Every store's flush of a frame runs in
 * one callback, so React renders what they changed once, not once per store.
 */
export const nextFrame = (fn: () => void) => {
  jobs.add(fn);
  if (scheduled) return;
  scheduled = true;
  if (document.visibilityState === 'visible') requestAnimationFrame(runJobs);
  else setTimeout(runJobs, 250);
};

const jobs = new Set<() => void>();
let scheduled = false;

function runJobs() {
  scheduled = false;
  const ready = [...jobs];
  jobs.clear();
  for (const fn of ready) fn();
}

/**
 * What a store collects between two frames, per ticker, applied once at the next frame (or
 * earlier with `flush`). `pending()` is the collection being filled; asking for it schedules
 * the flush.
 */
export function perFrame<V>(apply: (ready: Map<string, V>) => void) {
  let queued = new Map<string, V>();
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (queued.size === 0) return;
    const ready = queued;
    queued = new Map();
    apply(ready);
  };
  return {
    pending(): Map<string, V> {
      if (!scheduled) {
        scheduled = true;
        nextFrame(flush);
      }
      return queued;
    },
    flush,
  };
}
