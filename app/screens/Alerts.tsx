import { b3Time } from '../format.ts';
import { say, useT } from '../i18n/i18n.ts';
import { useAlerts } from '../state/alerts.ts';

/** Fills, rejections and outbox verdicts, newest first. */
export function Alerts({ limit = 8 }: { limit?: number }) {
  const alerts = useAlerts((s) => s.alerts);
  const dismiss = useAlerts((s) => s.dismiss);
  const t = useT();
  return (
    <section className="panel alerts" aria-labelledby="alerts-title">
      <h2 id="alerts-title">{t('alerts.title')}</h2>
      <ul aria-live="polite">
        {alerts.slice(0, limit).map((a) => (
          <li key={a.id} className={a.level}>
            <span className="time">{b3Time(a.at)}</span> {say(a.text)}
            <button
              type="button"
              className="link"
              aria-label={t('alerts.dismiss')}
              onClick={() => dismiss(a.id)}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      {alerts.length === 0 && <p className="muted">{t('alerts.none')}</p>}
    </section>
  );
}
