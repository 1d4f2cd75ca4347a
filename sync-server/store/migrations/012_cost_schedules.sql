-- Per-account cost schedules (shared/orders.ts CostSchedule as JSON: brokerage and B3 fees in
-- integer centavos, the equities rate in parts per million), kept as a history: a fill is charged
-- by the schedule in effect when it filled (orders/costs.ts), live and when start-up folds the
-- stored fills again, so a change applies from its moment on and never re-prices past fills.
-- Every change is audited (cost_schedule.update). An account without a row has the defaults.
create table cost_schedules (
  id             bigint generated always as identity primary key,
  account_id     text not null references accounts(id),
  schedule       jsonb not null,
  effective_from timestamptz not null default now(),
  updated_by     bigint references users(id)
);
create index cost_schedules_account on cost_schedules (account_id, effective_from);
