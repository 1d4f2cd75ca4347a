-- The first run. What the DLL reports of each trading account (GetAccountDetails: the broker's
-- name, the holder), and when an admin finished setting up trading: a restart never repeats it.
alter table accounts add column broker_name text not null default '';
alter table accounts add column holder text not null default '';

create table setup_state (
  singleton    boolean primary key default true check (singleton),
  completed_at timestamptz not null default now(),
  completed_by bigint references users(id)
);

-- An install that already has accounts (made through the REST API before the first run existed)
-- is set up.
insert into setup_state (completed_at) select now() where exists (select 1 from accounts);
