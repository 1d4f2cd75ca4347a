-- Price and order alerts (alerts/): each user's, evaluated by the server so they fire with the
-- app closed; each firing kept (the alert history); the devices a user gets Web Push on; the
-- user's quiet hours and rate.
create table alerts (
  id bigserial primary key,
  user_id bigint not null references users (id) on delete cascade,
  -- The device's id for it: an alert made offline is sent again with it and made once.
  client_id text,
  kind text not null check (kind in ('price_above', 'price_below', 'change_above', 'change_below',
                                     'volume_above', 'order')),
  ticker text,
  threshold double precision,
  order_events text[],
  repeat boolean not null default false,
  cooldown_s int not null default 0 check (cooldown_s >= 0),
  expiry text not null check (expiry in ('session', 'date', 'never')),
  expires_at timestamptz,
  status text not null check (status in ('active', 'paused', 'fired', 'expired')),
  note text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  last_fired_at timestamptz,
  fired int not null default 0,
  unique (user_id, client_id),
  check ((kind = 'order') = (order_events is not null)),
  check ((kind = 'order') = (threshold is null)),
  check ((expiry = 'never') = (expires_at is null))
);
create index alerts_user on alerts (user_id);
create index alerts_active on alerts (status) where status = 'active';

create table alert_firings (
  id bigserial primary key,
  alert_id bigint not null references alerts (id) on delete cascade,
  user_id bigint not null references users (id) on delete cascade,
  fired_at timestamptz not null,
  kind text not null,
  ticker text,
  price double precision,
  value double precision,
  threshold double precision,
  order_id bigint,
  order_event text,
  notified text not null check (notified in ('sent', 'quiet', 'rate', 'none'))
);
create index alert_firings_user on alert_firings (user_id, id desc);

create table push_subscriptions (
  id bigserial primary key,
  user_id bigint not null references users (id) on delete cascade,
  endpoint text not null unique,
  p256dh text not null,
  auth text not null,
  label text not null,
  created_at timestamptz not null default now(),
  last_sent_at timestamptz
);
create index push_subscriptions_user on push_subscriptions (user_id);

create table alert_settings (
  user_id bigint primary key references users (id) on delete cascade,
  -- Brasília minutes after midnight; both null for no quiet hours.
  quiet_from int check (quiet_from between 0 and 1439),
  quiet_to int check (quiet_to between 0 and 1439),
  per_minute int not null check (per_minute between 1 and 60),
  check ((quiet_from is null) = (quiet_to is null))
);
