-- Trades as captured, one row per trade, the columns written once for both layouts.
-- TimescaleDB present: a hypertable in daily chunks, compressed after 7 days (segmented by
-- ticker), dropped after 400 days. Candles are `date_bin` rollups on both layouts
-- (store/ticks.ts); continuous aggregates are not created yet.
-- Plain PostgreSQL or PGlite: range-partitioned by day with BRIN on time; store/ticks.ts creates
-- the daily partitions ahead, and the default partition means no row is ever refused.
do $$
declare
  cols text := 'ticker text not null, seq bigint not null, time timestamptz not null,
    price double precision not null, qty integer not null, trade_number bigint not null,
    buy_agent integer not null, sell_agent integer not null, trade_type smallint not null,
    flags smallint not null, captured_ms double precision not null';
begin
  if exists (select 1 from pg_extension where extname = 'timescaledb') then
    execute format('create table ticks (%s)', cols);
    perform create_hypertable('ticks', by_range('time', interval '1 day'));
    alter table ticks set (timescaledb.compress, timescaledb.compress_segmentby = 'ticker',
      timescaledb.compress_orderby = 'seq');
    perform add_compression_policy('ticks', interval '7 days');
    perform add_retention_policy('ticks', interval '400 days');
  else
    execute format('create table ticks (%s) partition by range (time)', cols);
    create table ticks_default partition of ticks default;
    create index ticks_time_brin on ticks using brin (time);
  end if;
end $$;
create index ticks_ticker_seq on ticks (ticker, seq);

-- Dead-letter queue: anything that failed validation or storage, with why. A repeat of the
-- same payload for the same reason bumps `attempts` and `last_seen` instead of a new row.
create table dead_letters (
  id          bigint generated always as identity primary key,
  source      text not null,
  reason      text not null,
  detail      text not null,
  payload     jsonb not null,
  fingerprint text not null unique,
  attempts    integer not null default 1,
  first_seen  timestamptz not null default now(),
  last_seen   timestamptz not null default now(),
  resolved_at timestamptz,
  resolution  text
);
create index dead_letters_open on dead_letters (last_seen desc) where resolved_at is null;
