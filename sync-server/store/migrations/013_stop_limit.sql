-- Stop-limit orders (orders/risk.ts, orders/state.ts): a stop price, and when the stop triggered
-- (null while it waits). Only a stop-limit has a stop price.
alter table orders drop constraint orders_type_check;
alter table orders add constraint orders_type_check check (type in ('limit', 'market', 'stop_limit'));
alter table orders add column stop_price double precision;
alter table orders add column triggered_at timestamptz;
alter table orders add constraint orders_stop_price_check
  check ((type = 'stop_limit') = (stop_price is not null) and (triggered_at is null or type = 'stop_limit'));
