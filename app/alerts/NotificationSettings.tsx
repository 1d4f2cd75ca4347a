import { type ChangeEvent, useEffect, useState } from 'react';
import type { PushDeviceJson } from '../../sync-server/shared/alerts.ts';
import { b3DateTime } from '../format.ts';
import { errorText, say, type Text, useT } from '../i18n/i18n.ts';
import { useSettings } from '../state/settings.ts';
import {
  refreshPushDevices,
  useAlertSettings,
  usePushDevices,
  usePushKey,
  useRemovePushDevice,
  useSaveAlertSettings,
} from './api.ts';
import { readAlertSettings } from './draft.ts';
import { Input } from './Fields.tsx';
import { enablePush, PushError } from './push.ts';

// Settings → Notifications: Web Push on this device, the user's devices, quiet hours and the
// rate (kept by the server, for every device), and the in-app sound (kept on this device).

export function NotificationSettings() {
  const t = useT();
  const alertSound = useSettings((s) => s.alertSound);
  const change = useSettings((s) => s.change);
  return (
    <fieldset className="notifications">
      <legend>{t('priceAlerts.settings.title')}</legend>
      <ThisDevice />
      <Devices />
      <QuietHours />
      <Input
        type="checkbox"
        label={t('priceAlerts.settings.sound')}
        checked={alertSound}
        onChange={(e) => void change({ alertSound: e.target.checked })}
      />
    </fieldset>
  );
}

function ThisDevice() {
  const t = useT();
  const key = usePushKey();
  const [busy, setBusy] = useState(false);
  const [verdict, setVerdict] = useState<{ ok: boolean; text: Text }>();
  const enable = async () => {
    setBusy(true);
    setVerdict(undefined);
    try {
      const device = await enablePush();
      setVerdict({ ok: true, text: t('priceAlerts.push.enabled', { label: device.label }) });
      void refreshPushDevices();
    } catch (err) {
      setVerdict({ ok: false, text: err instanceof PushError ? err.text : errorText(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <p className="muted">{t('priceAlerts.settings.intro')}</p>
      {key.data === null && <p className="muted">{t('priceAlerts.push.noServerKey')}</p>}
      <button type="button" className="small" disabled={busy} onClick={() => void enable()}>
        {t('priceAlerts.push.enable')}
      </button>
      {verdict && (
        <p role={verdict.ok ? 'status' : 'alert'} className={verdict.ok ? 'verdict ok' : 'problem'}>
          {say(verdict.text)}
        </p>
      )}
    </>
  );
}

function Devices() {
  const t = useT();
  const devices = usePushDevices();
  const remove = useRemovePushDevice();
  const list = devices.data?.devices ?? [];
  const none = devices.isError ? errorText(devices.error) : t('priceAlerts.settings.noDevices');
  return (
    <div className="push-devices">
      <h3>{t('priceAlerts.settings.devices')}</h3>
      {list.length === 0 && <p className="muted">{none}</p>}
      <ul>
        {list.map((d) => (
          <Device key={d.id} d={d} current={d.id === devices.data?.current} remove={remove} />
        ))}
      </ul>
      {remove.isError && (
        <p className="problem" role="alert">
          {errorText(remove.error)}
        </p>
      )}
    </div>
  );
}

function Device({
  d,
  current,
  remove,
}: {
  d: PushDeviceJson;
  current: boolean;
  remove: ReturnType<typeof useRemovePushDevice>;
}) {
  const t = useT();
  const since = { service: d.service, since: b3DateTime(d.createdAt) };
  return (
    <li data-device={d.id}>
      <b>{d.label}</b>
      {current && <small>{t('priceAlerts.settings.thisDevice')}</small>}
      <small className="muted">{t('priceAlerts.settings.deviceSince', since)}</small>
      <button
        type="button"
        className="small"
        aria-label={t('priceAlerts.settings.removeFor', { label: d.label })}
        disabled={remove.isPending}
        onClick={() => remove.mutate(d.id)}
      >
        {t('priceAlerts.settings.remove')}
      </button>
    </li>
  );
}

const typed = (set: (v: string) => void) => (e: ChangeEvent<HTMLInputElement>) => set(e.target.value);

function QuietHours() {
  const t = useT();
  const settings = useAlertSettings();
  const save = useSaveAlertSettings();
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [perMinute, setPerMinute] = useState('6');
  const [problem, setProblem] = useState<string>();
  const s = settings.data;
  // The form starts from the server's settings once they come.
  useEffect(() => {
    if (!s) return;
    setFrom(s.quietFrom ?? '');
    setTo(s.quietTo ?? '');
    setPerMinute(String(s.perMinute));
  }, [s]);
  const submit = () => {
    const read = readAlertSettings(from, to, perMinute);
    if ('problem' in read) return setProblem(say(read.problem));
    setProblem(undefined);
    save.mutate(read.value, { onError: (err) => setProblem(errorText(err)) });
  };
  return (
    <form
      className="quiet-hours"
      aria-label={t('priceAlerts.settings.quietTitle')}
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <h3>{t('priceAlerts.settings.quietTitle')}</h3>
      <p className="muted">{t('priceAlerts.settings.quietNote')}</p>
      <div className="row">
        <Input
          label={t('priceAlerts.settings.quietFrom')}
          type="time"
          value={from}
          onChange={typed(setFrom)}
        />
        <Input label={t('priceAlerts.settings.quietTo')} type="time" value={to} onChange={typed(setTo)} />
        <Input
          label={t('priceAlerts.settings.perMinute')}
          type="number"
          min={1}
          max={60}
          value={perMinute}
          onChange={typed(setPerMinute)}
        />
      </div>
      <button type="submit" className="small" disabled={save.isPending}>
        {t('priceAlerts.settings.save')}
      </button>
      {problem && (
        <p className="problem" role="alert">
          {problem}
        </p>
      )}
      {save.isSuccess && !problem && (
        <p className="verdict ok" role="status">
          {t('priceAlerts.settings.saved')}
        </p>
      )}
    </form>
  );
}
