-- The admin's list of dead letters pages newest first by (last_seen, id), a keyset that stays
-- put while letters come in, and counts the open ones per source and reason. Without these a
-- page or a count past a burst of letters (a thousand bad callbacks in a second) reads the table.
drop index dead_letters_open;
-- Open letters, newest first (the default view), and the total the admin's badge shows.
create index dead_letters_open on dead_letters (last_seen desc, id desc) where resolved_at is null;
-- Open letters of one source (and reason), in page order; the counts read it alone (index-only).
create index dead_letters_open_kind on dead_letters (source, reason, last_seen desc, id desc)
  where resolved_at is null;
-- Resolved ones too (status resolved or all).
create index dead_letters_seen on dead_letters (last_seen desc, id desc);
