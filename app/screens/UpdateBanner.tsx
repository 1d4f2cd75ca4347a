import { useT } from '../i18n/i18n.ts';
import { usePwa } from '../pwa.ts';

/** "Update available": the trader chooses when to reload, so nothing is lost mid-task. */
export function UpdateBanner() {
  const ready = usePwa((s) => s.updateReady);
  const apply = usePwa((s) => s.applyUpdate);
  const t = useT();
  if (!ready) return null;
  return (
    <div role="status" className="banner">
      {t('update.available')}
      <button type="button" onClick={apply}>
        {t('update.now')}
      </button>
    </div>
  );
}
