import { useSettings } from '../state/settings.ts';

export function SettingsScreen() {
  const s = useSettings();
  return (
    <section className="panel settings" aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      <label>
        Mark a quote stale after (seconds)
        <input
          type="number"
          min={2}
          max={600}
          value={s.staleAfterSeconds}
          onChange={(e) => void s.change({ staleAfterSeconds: Math.max(2, Number(e.target.value) || 2) })}
        />
      </label>
      <label>
        Offline orders expire after (minutes)
        <input
          type="number"
          min={1}
          max={240}
          value={s.outboxMinutes}
          onChange={(e) => void s.change({ outboxMinutes: Math.max(1, Number(e.target.value) || 1) })}
        />
      </label>
      <label className="check">
        <input
          type="checkbox"
          checked={s.confirmOrders}
          onChange={(e) => void s.change({ confirmOrders: e.target.checked })}
        />
        Confirm each order (Enter twice)
      </label>
      {s.error && (
        <p role="alert" className="problem">
          {s.error}
        </p>
      )}
      <p className="muted">Settings are kept on this device, per user.</p>
    </section>
  );
}
