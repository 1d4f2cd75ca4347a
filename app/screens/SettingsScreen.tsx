import { NotificationSettings } from '../alerts/NotificationSettings.tsx';
import { LANGS, type Lang, say, setLang, useLang, useT } from '../i18n/i18n.ts';
import { clashes, comboOf, DEFAULT_HOTKEYS, HOTKEY_ACTIONS, HOTKEY_WORDS } from '../orders/hotkeys.ts';
import { useSettings } from '../state/settings.ts';

export function SettingsScreen() {
  const s = useSettings();
  const t = useT();
  const lang = useLang((l) => l.lang);
  const clashing = clashes(s.hotkeys);
  return (
    <section className="panel settings" aria-labelledby="settings-title">
      <h2 id="settings-title">{t('settings.title')}</h2>
      <label>
        {t('settings.language')}
        <select value={lang} onChange={(e) => setLang(e.target.value as Lang)}>
          {LANGS.map((l) => (
            <option key={l} value={l}>
              {t(`settings.lang.${l}`)}
            </option>
          ))}
        </select>
      </label>
      <p className="muted">{t('settings.languageNote')}</p>
      <label>
        {t('settings.staleAfter')}
        <input
          type="number"
          min={2}
          max={600}
          value={s.staleAfterSeconds}
          onChange={(e) => void s.change({ staleAfterSeconds: Math.max(2, Number(e.target.value) || 2) })}
        />
      </label>
      <label>
        {t('settings.outboxMinutes')}
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
        {t('settings.confirmOrders')}
      </label>
      <label className="check">
        <input
          type="checkbox"
          checked={s.confirmFlatten}
          onChange={(e) => void s.change({ confirmFlatten: e.target.checked })}
        />
        {t('settings.confirmFlatten')}
      </label>
      <label className="check">
        <input
          type="checkbox"
          checked={s.confirmReverse}
          onChange={(e) => void s.change({ confirmReverse: e.target.checked })}
        />
        {t('settings.confirmReverse')}
      </label>
      <fieldset className="hotkeys">
        <legend>{t('settings.shortcuts')}</legend>
        <p className="muted">{t('settings.shortcutHint')}</p>
        {HOTKEY_ACTIONS.map((a) => (
          <label key={a}>
            {t(HOTKEY_WORDS[a])}
            <input
              readOnly
              value={s.hotkeys[a]}
              aria-invalid={clashing.includes(a) || undefined}
              data-hotkey={a}
              onKeyDown={(e) => {
                if (e.key === 'Tab') return;
                e.preventDefault();
                const combo = comboOf(e);
                if (combo) void s.change({ hotkeys: { ...s.hotkeys, [a]: combo } });
              }}
            />
          </label>
        ))}
        {clashing.length > 0 && (
          <p role="alert" className="problem">
            {t('settings.shortcutClash')}
          </p>
        )}
        <button type="button" className="small" onClick={() => void s.change({ hotkeys: DEFAULT_HOTKEYS })}>
          {t('settings.shortcutsReset')}
        </button>
      </fieldset>
      <NotificationSettings />
      {s.error && (
        <p role="alert" className="problem">
          {say(s.error)}
        </p>
      )}
      <p className="muted">{t('settings.perDevice')}</p>
    </section>
  );
}
