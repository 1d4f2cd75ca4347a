import { type FormEvent, useState } from 'react';
import { MIN_PASSWORD, ROLES, type Role, USERNAME, type UserJson } from '../../sync-server/shared/admin.ts';
import { useAccounts } from '../api/admin.ts';
import { b3DateTime } from '../format.ts';
import { errorText, useT } from '../i18n/i18n.ts';
import { reconnectLiveSocket } from '../live/socket.ts';
import { useSession } from '../state/session.ts';
import {
  useAssignAccount,
  useChangeUser,
  useCreateUser,
  useResetPassword,
  useSignOutEverywhere,
  useUsers,
} from './api.ts';
import { OncePassword } from './OncePassword.tsx';

interface Shown {
  readonly username: string;
  readonly password: string;
}

/** Admins: every user, a new one, and each one's role, account, password and sessions. */
export function UsersScreen() {
  const users = useUsers();
  const [shown, setShown] = useState<Shown>();
  const [problem, setProblem] = useState<string>();
  const t = useT();
  // Each action says what went wrong with its user (the server's message); the next one clears it.
  const report = (username: string) => ({
    onError: (err: Error) => setProblem(`${username}: ${errorText(err)}`),
    onSettled: (_d: unknown, err: Error | null) => {
      if (!err) setProblem(undefined);
    },
  });
  return (
    <section className="panel admin-users" aria-labelledby="users-title">
      <h2 id="users-title">{t('users.title')}</h2>
      <CreateUser onCreated={setShown} />
      {shown && <OncePassword {...shown} onDismiss={() => setShown(undefined)} />}
      {problem && (
        <p role="alert" className="problem">
          {t('users.notChanged', { problem })}
        </p>
      )}
      {users.isError && <p className="problem">{errorText(users.error)}</p>}
      <table className="cards" aria-label={t('users.table')}>
        <thead>
          <tr>
            <th>{t('users.username')}</th>
            <th>{t('users.role')}</th>
            <th>{t('users.account')}</th>
            <th>{t('users.status')}</th>
            <th>{t('users.lastSignIn')}</th>
            <th>{t('users.actions')}</th>
          </tr>
        </thead>
        <tbody>
          {(users.data ?? []).map((u) => (
            <UserRow key={u.userId} user={u} report={report(u.username)} onPassword={setShown} />
          ))}
        </tbody>
      </table>
      {users.data?.length === 0 && <p className="muted">{t('users.none')}</p>}
    </section>
  );
}

function CreateUser({ onCreated }: { onCreated(shown: Shown): void }) {
  const create = useCreateUser();
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<Role>('trader');
  const [password, setPassword] = useState('');
  const [done, setDone] = useState<string>();
  const t = useT();
  const badName = username !== '' && !USERNAME.test(username);
  const shortPassword = password !== '' && password.length < MIN_PASSWORD;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setDone(undefined);
    create.mutate(password ? { username, role, password } : { username, role }, {
      onSuccess: (r) => {
        setUsername('');
        setPassword('');
        if (r.password) onCreated({ username: r.user.username, password: r.password });
        else setDone(t('users.created', { user: r.user.username }));
      },
    });
  };
  return (
    <form className="create-user" onSubmit={submit} aria-label={t('users.new')}>
      <label>
        {t('users.username')}
        <input
          value={username}
          onChange={(e) => setUsername(e.target.value.toLowerCase())}
          autoComplete="off"
          required
          aria-invalid={badName}
        />
      </label>
      <label>
        {t('users.role')}
        <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {t(`role.${r}`)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('users.password')}
        <input
          type="text"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          placeholder={t('users.generated')}
          autoComplete="new-password"
          aria-invalid={shortPassword}
        />
      </label>
      <button type="submit" disabled={create.isPending || badName || shortPassword || username === ''}>
        {t('users.create')}
      </button>
      <p className="hint">
        {badName
          ? t('users.badName')
          : shortPassword
            ? t('users.shortPassword', { n: MIN_PASSWORD })
            : t('users.shownOnce')}
      </p>
      {create.isError && (
        <p role="alert" className="problem">
          {t('users.notCreated', { reason: errorText(create.error) })}
        </p>
      )}
      {done && <p className="muted">{done}</p>}
    </form>
  );
}

function UserRow({
  user,
  report,
  onPassword,
}: {
  user: UserJson;
  report: { onError(err: Error): void; onSettled(d: unknown, err: Error | null): void };
  onPassword(shown: Shown): void;
}) {
  const me = useSession((s) => s.user?.userId) === user.userId;
  const t = useT();
  const accounts = useAccounts();
  const change = useChangeUser();
  const assign = useAssignAccount();
  const reset = useResetPassword();
  const signOut = useSignOutEverywhere();
  const busy = change.isPending || assign.isPending || reset.isPending || signOut.isPending;
  const ids = (accounts.data ?? []).map((a) => a.id);
  // An account the list does not hold yet still shows as the one assigned.
  if (user.accountId && !ids.includes(user.accountId)) ids.push(user.accountId);
  return (
    <tr className={user.disabled ? 'disabled' : undefined} data-user={user.username}>
      <th data-label={t('users.username')}>
        <span>
          {user.username}
          {me && <small className="muted"> {t('users.you')}</small>}
        </span>
      </th>
      <td data-label={t('users.role')}>
        <select
          aria-label={t('users.roleOf', { user: user.username })}
          value={user.role}
          disabled={busy}
          onChange={(e) => change.mutate({ id: user.userId, role: e.target.value as Role }, report)}
        >
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {t(`role.${r}`)}
            </option>
          ))}
        </select>
      </td>
      <td data-label={t('users.accountShort')}>
        <select
          aria-label={t('users.accountOf', { user: user.username })}
          value={user.accountId ?? ''}
          disabled={busy}
          onChange={(e) =>
            assign.mutate(
              { id: user.userId, accountId: e.target.value || null },
              {
                ...report,
                // One's own orders are pushed to the live socket once it has joined the account.
                onSuccess: () => me && reconnectLiveSocket(),
              },
            )
          }
        >
          <option value="">{t('users.noAccount')}</option>
          {ids.map((id) => (
            <option key={id}>{id}</option>
          ))}
        </select>
      </td>
      <td data-label={t('users.status')}>
        {user.disabled ? (
          <span className="badge bad">{t('users.disabled')}</span>
        ) : (
          <span className="badge ok">{t('users.active')}</span>
        )}
      </td>
      <td data-label={t('users.lastSignIn')} className="time">
        {user.lastLoginAt ? b3DateTime(user.lastLoginAt) : t('users.never')}
      </td>
      <td data-label={t('users.actions')} className="actions">
        <div className="row-actions">
          <button
            type="button"
            className="small secondary"
            disabled={busy}
            onClick={() =>
              reset.mutate(
                { id: user.userId },
                {
                  ...report,
                  onSuccess: (r) =>
                    r.password && onPassword({ username: user.username, password: r.password }),
                },
              )
            }
          >
            {t('users.resetPassword')}
          </button>
          <button
            type="button"
            className={`small ${user.disabled ? '' : 'danger'}`}
            disabled={busy}
            onClick={() => change.mutate({ id: user.userId, disabled: !user.disabled }, report)}
          >
            {user.disabled ? t('users.enable') : t('users.disable')}
          </button>
          <button
            type="button"
            className="small secondary"
            disabled={busy || user.disabled}
            onClick={() => signOut.mutate(user.userId, report)}
          >
            {t('users.signOutEverywhere')}
          </button>
        </div>
      </td>
    </tr>
  );
}
