-- Retention finds old events by age across all tenants; the only index on
-- created_at leads with tenant_id, so every retention batch read the whole
-- events table (dead rows included) to pick its 5,000 oldest rows.
--
-- Migrations run in a transaction, so this cannot be built CONCURRENTLY
-- here: on a large existing installation, build it first by hand with
--   create index concurrently if not exists events_created on events (created_at);
-- and this migration does nothing more.
create index if not exists events_created on events (created_at);
