import { type FormEvent, useState } from 'react';
import { MIN_PASSWORD, ROLES, type Role, USERNAME, type UserJson } from '../../sync-server/shared/admin.ts';
import { useAccounts } from '../api/admin.ts';
import { b3DateTime } from '../format.ts';
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
  // Each action says what went wrong with its user (the server's message); the next one clears it.
  const report = (username: string) => ({
    onError: (err: Error) => setProblem(`${username}: ${err.message}`),
    onSettled: (_d: unknown, err: Error | null) => {
      if (!err) setProblem(undefined);
    },
  });
  return (
    <section className="panel admin-users" aria-labelledby="users-title">
      <h2 id="users-title">Users</h2>
      <CreateUser onCreated={setShown} />
      {shown && <OncePassword {...shown} onDismiss={() => setShown(undefined)} />}
      {problem && (
        <p role="alert" className="problem">
          Not changed: {problem}
        </p>
      )}
      {users.isError && <p className="problem">{users.error.message}</p>}
      <table className="cards" aria-label="Users">
        <thead>
          <tr>
            <th>Username</th>
            <th>Role</th>
            <th>Trading account</th>
            <th>Status</th>
            <th>Last sign-in</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {(users.data ?? []).map((u) => (
            <UserRow key={u.userId} user={u} report={report(u.username)} onPassword={setShown} />
          ))}
        </tbody>
      </table>
      {users.data?.length === 0 && <p className="muted">No users yet.</p>}
    </section>
  );
}

function CreateUser({ onCreated }: { onCreated(shown: Shown): void }) {
  const create = useCreateUser();
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<Role>('trader');
  const [password, setPassword] = useState('');
  const [done, setDone] = useState<string>();
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
        else setDone(`Created ${r.user.username} with the password you typed.`);
      },
    });
  };
  return (
    <form className="create-user" onSubmit={submit} aria-label="New user">
      <label>
        Username
        <input
          value={username}
          onChange={(e) => setUsername(e.target.value.toLowerCase())}
          autoComplete="off"
          required
          aria-invalid={badName}
        />
      </label>
      <label>
        Role
        <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {ROLES.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
      </label>
      <label>
        Password
        <input
          type="text"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          placeholder="empty: one is generated"
          autoComplete="new-password"
          aria-invalid={shortPassword}
        />
      </label>
      <button type="submit" disabled={create.isPending || badName || shortPassword || username === ''}>
        Create user
      </button>
      <p className="hint">
        {badName
          ? '3 to 40 characters: a-z, 0-9, dot, dash, underscore.'
          : shortPassword
            ? `At least ${MIN_PASSWORD} characters, or leave it empty for a generated one.`
            : 'A generated password is shown once, here.'}
      </p>
      {create.isError && (
        <p role="alert" className="problem">
          Not created: {create.error.message}
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
      <th data-label="Username">
        <span>
          {user.username}
          {me && <small className="muted"> (you)</small>}
        </span>
      </th>
      <td data-label="Role">
        <select
          aria-label={`Role of ${user.username}`}
          value={user.role}
          disabled={busy}
          onChange={(e) => change.mutate({ id: user.userId, role: e.target.value as Role }, report)}
        >
          {ROLES.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
      </td>
      <td data-label="Account">
        <select
          aria-label={`Trading account of ${user.username}`}
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
          <option value="">none</option>
          {ids.map((id) => (
            <option key={id}>{id}</option>
          ))}
        </select>
      </td>
      <td data-label="Status">
        {user.disabled ? (
          <span className="badge bad">disabled</span>
        ) : (
          <span className="badge ok">active</span>
        )}
      </td>
      <td data-label="Last sign-in" className="time">
        {user.lastLoginAt ? b3DateTime(user.lastLoginAt) : 'never'}
      </td>
      <td data-label="Actions" className="actions">
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
            Reset password
          </button>
          <button
            type="button"
            className={`small ${user.disabled ? '' : 'danger'}`}
            disabled={busy}
            onClick={() => change.mutate({ id: user.userId, disabled: !user.disabled }, report)}
          >
            {user.disabled ? 'Enable' : 'Disable'}
          </button>
          <button
            type="button"
            className="small secondary"
            disabled={busy || user.disabled}
            onClick={() => signOut.mutate(user.userId, report)}
          >
            Sign out everywhere
          </button>
        </div>
      </td>
    </tr>
  );
}
