import { useState } from 'react';

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
  const copy = () =>
    navigator.clipboard?.writeText(password).then(
      () => setCopied(true),
      () => setCopied(false),
    ) ?? setCopied(false);
  return (
    <div className="once" role="status" aria-label={`New password for ${username}`}>
      <p>
        Password for <b>{username}</b>, shown only now: give it to them, it cannot be shown again.
      </p>
      <div className="once-row">
        <code data-testid="once-password">{password}</code>
        <button type="button" className="small" onClick={() => void copy()}>
          {copied ? 'Copied' : 'Copy'}
        </button>
        <button type="button" className="small link" onClick={onDismiss}>
          Done
        </button>
      </div>
      {copied === false && (
        <p className="problem">Copying is not allowed here: select the password and copy it.</p>
      )}
    </div>
  );
}
