import { type FormEvent, useState } from 'react';
import { errorText, say, useT } from '../i18n/i18n.ts';
import { useSession } from '../state/session.ts';

export function Login() {
  const t = useT();
  const signIn = useSession((s) => s.signIn);
  const notice = useSession((s) => s.notice);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setBusy(true);
    setError(undefined);
    try {
      await signIn(String(form.get('username')), String(form.get('password')));
    } catch (err) {
      setError(errorText(err) || t('login.failed'));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <form onSubmit={submit} aria-label={t('login.form')}>
        <h1>Tape</h1>
        {notice && (
          <p role="status" className="notice">
            {say(notice)}
          </p>
        )}
        <label>
          {t('login.username')}
          <input name="username" autoComplete="username" required />
        </label>
        <label>
          {t('login.password')}
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? t('login.signingIn') : t('login.signIn')}
        </button>
      </form>
    </main>
  );
}
