-- Trading accounts at the broker, and which user trades which account.
create table accounts (
  id         text primary key check (id ~ '^[A-Za-z0-9._-]{1,40}$'),
  broker_id  integer not null,
  name       text not null,
  created_at timestamptz not null default now()
);
alter table users add column account_id text references accounts(id);

-- Per-account risk limits (orders/risk.ts RiskConfig as JSON); every change is audited.
create table risk_configs (
  account_id text primary key references accounts(id),
  config     jsonb not null,
  updated_by bigint references users(id),
  updated_at timestamptz not null default now()
);

-- Orders are written before the DLL is called (write-ahead): a crash between the two leaves a
-- row without local_order_id, which start-up reconciles against the DLL's own order list.
create table orders (
  id               bigint generated always as identity primary key,
  account_id       text not null references accounts(id),
  user_id          bigint not null references users(id),
  client_order_id  text not null check (client_order_id ~ '^[A-Za-z0-9._:-]{1,64}$'),
  -- SHA-256 of the request: the same clientOrderId with other details is a different order.
  request_hash     text not null,
  ticker           text not null,
  exchange         text not null,
  side             text not null check (side in ('buy', 'sell')),
  type             text not null check (type in ('limit', 'market')),
  qty              integer not null check (qty > 0),
  price            double precision,
  state            text not null,
  filled_qty       integer not null default 0 check (filled_qty >= 0 and filled_qty <= qty),
  avg_fill_price   double precision,
  local_order_id   bigint unique,
  reject_reason    text,
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now(),
  unique (account_id, client_order_id)
);
create index orders_working on orders (account_id)
  where state not in ('filled', 'canceled', 'rejected', 'expired');

-- Every state change, with the event that caused it: the order's explanation.
create table order_events (
  id         bigint generated always as identity primary key,
  order_id   bigint not null references orders(id),
  event      text not null,
  from_state text,
  to_state   text not null,
  detail     jsonb not null default '{}',
  at         timestamptz not null default now()
);
create index order_events_order on order_events (order_id, id);

-- Executions: positions and P&L are folded from these.
create table fills (
  id         bigint generated always as identity primary key,
  order_id   bigint not null references orders(id),
  account_id text not null references accounts(id),
  ticker     text not null,
  exchange   text not null,
  side       text not null check (side in ('buy', 'sell')),
  qty        integer not null check (qty > 0),
  price      double precision not null,
  at         timestamptz not null default now()
);
create index fills_account on fills (account_id, id);

-- Who changed what, when: risk limits, kill switch, users.
create table audit_log (
  id       bigint generated always as identity primary key,
  actor_id bigint references users(id),
  action   text not null,
  target   text not null,
  before   jsonb,
  after    jsonb,
  at       timestamptz not null default now()
);
