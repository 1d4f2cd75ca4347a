-- The audit trail now has an entry per order submitted, cancelled or changed: what an admin
-- asks of it, newest first, is one target's entries (an order, an account, a user) or one
-- user's, which without an index read the whole trail.
create index audit_log_target on audit_log (target, id desc);
create index audit_log_actor on audit_log (actor_id, id desc);
