-- Users as admins manage them: when each last signed in, and from when its credentials count
-- (access tokens and socket tickets issued earlier are refused: a sign-out everywhere, a
-- disable, a role change; auth/revocations.ts).
alter table users add column last_login_at timestamptz;
alter table users add column tokens_not_before timestamptz;
