/**
 * Runs `fn` at the next animation frame, or in 250 ms while the tab is hidden (no frames then),
 * so what the stores queue between frames never piles up.
 */
export const nextFrame = (fn: () => void) => {
  if (document.visibilityState === 'visible') requestAnimationFrame(fn);
  else setTimeout(fn, 250);
};
