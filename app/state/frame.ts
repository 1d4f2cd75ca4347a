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
