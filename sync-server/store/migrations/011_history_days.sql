-- Past days of a ticker's history the backfill CLI (scripts/backfill.ts) stored whole: a rerun
-- skips them without asking the DLL again. A day the server only traded live in part has no row,
-- so the CLI asks it and adds only the trades it lacks (same trade number of that B3 day).
-- Today's history is the server's (market/backfill.ts) and is not recorded here.
create table history_days (
  ticker    text not null,
  day       date not null, -- the B3 session day
  trades    integer not null, -- trades the DLL answered for the day
  added     integer not null, -- of them, the ones the day did not hold yet
  filled_at timestamptz not null default now(),
  primary key (ticker, day)
);
