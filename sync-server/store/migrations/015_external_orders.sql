-- Orders Tape did not send (issue 19): made on the same account in Profit itself or another
-- terminal, reported by the DLL's order callback or found in its list. Kept with Tape's own, in
-- the same state table, marked by origin; no Tape user sent them.
alter table orders add column origin text not null default 'tape' check (origin in ('tape', 'external'));
alter table orders alter column user_id drop not null;
alter table orders add constraint orders_origin_user_check check ((origin = 'tape') = (user_id is not null));
