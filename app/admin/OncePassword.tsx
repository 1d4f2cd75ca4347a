import { useState } from 'react';
import { useT } from '../i18n/i18n.ts';

/** A password the server generated, shown this once with a copy button. */
export function OncePassword({
  username,
  password,
  onDismiss,
}: {
  username: string;
  password: string;
  onDismiss(): void;
}) {
  const [copied, setCopied] = useState<boolean>();
  const t = useT();
  // The name in bold inside the sentence, wherever the language puts it.
  const [before, after] = t('once.text', { user: '\u0000' }).split('\u0000');
  const copy = () =>
    navigator.clipboard?.writeText(password).then(
      () => setCopied(true),
      () => setCopied(false),
    ) ?? setCopied(false);
  return (
    <div className="once" role="status" aria-label={t('once.aria', { user: username })}>
      <p>
        {before}
        <b>{username}</b>
        {after}
      </p>
      <div className="once-row">
        <code data-testid="once-password">{password}</code>
        <button type="button" className="small" onClick={() => void copy()}>
          {copied ? t('once.copied') : t('once.copy')}
        </button>
        <button type="button" className="small link" onClick={onDismiss}>
          {t('once.done')}
        </button>
      </div>
      {copied === false && <p className="problem">{t('once.noCopy')}</p>}
    </div>
  );
}
