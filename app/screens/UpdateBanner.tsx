import { usePwa } from '../pwa.ts';

/** "Update available": the trader chooses when to reload, so nothing is lost mid-task. */
export function UpdateBanner() {
  const ready = usePwa((s) => s.updateReady);
  const apply = usePwa((s) => s.applyUpdate);
  if (!ready) return null;
  return (
    <div role="status" className="banner">
      A new version of Tape is available.
      <button type="button" onClick={apply}>
        Update now
      </button>
    </div>
  );
}
