-- Users, roles and refresh tokens.
create table users (
  id            bigint generated always as identity primary key,
  username      text not null unique check (username ~ '^[a-z0-9._-]{3,40}$'),
  password_hash text not null,
  role          text not null check (role in ('admin', 'trader', 'viewer')),
  created_at    timestamptz not null default now(),
  disabled_at   timestamptz
);

-- Only a SHA-256 of each refresh token is kept: a database leak does not hand out sessions.
create table refresh_tokens (
  token_hash  text primary key,
  user_id     bigint not null references users(id) on delete cascade,
  expires_at  timestamptz not null,
  created_at  timestamptz not null default now(),
  revoked_at  timestamptz
);
create index refresh_tokens_user on refresh_tokens(user_id);

-- Secrets the server generates for itself in embedded mode (the JWT signing key), so that
-- tokens survive a restart without the operator having to configure one.
create table server_secrets (
  name       text primary key,
  value      text not null,
  created_at timestamptz not null default now()
);
