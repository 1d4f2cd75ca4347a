-- OCO brackets (orders/brackets.ts): a take-profit limit and a stop-loss stop-limit protecting a
-- position, managed by the server (the DLL has no OCO). Each row says what it protects and which
-- orders are its legs; the legs and the entry are ordinary orders (their fills are the truth).
create table brackets (
  id bigserial primary key,
  account_id text not null references accounts (id),
  user_id bigint not null references users (id),
  client_id text not null,
  ticker text not null,
  -- The position it protects: long is closed by sells, short by buys.
  side text not null check (side in ('long', 'short')),
  -- The quantity its legs were last sized to (grows with an entry's fills).
  qty int not null check (qty >= 0),
  take_profit double precision not null,
  stop_price double precision not null,
  stop_limit double precision not null,
  entry_order_id bigint references orders (id),
  tp_order_id bigint references orders (id),
  sl_order_id bigint references orders (id),
  state text not null check (state in ('pending', 'active', 'closed', 'canceled')),
  reason text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (account_id, client_id)
);
create index brackets_open on brackets (account_id) where state in ('pending', 'active');
