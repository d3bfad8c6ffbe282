-- The listing indexes ascend. They were (…, created_at desc, id desc), the
-- order the listings read them in; a backward scan of an ascending index
-- serves the same `order by created_at desc, id desc`, and the cursors'
-- row comparisons, as well.
--
-- With time going up, every insert into a descending index landed at the
-- left end of its tenant's (or endpoint's) range. A page split there is an
-- even one, so those pages stayed half full (1,085 pages against 608 for
-- 100,000 events), and every insert descended from the root: PostgreSQL
-- keeps its shortcut to the last leaf for inserts at the right end only.
-- Four connections publishing batches of 1,000 named events (the batch
-- route): see docs/benchmarks.md, "Forty-third pass".
--
-- Migrations run in a transaction, so these cannot be built CONCURRENTLY
-- here, and building one locks its table against writes. On a large
-- installation, build them first by hand:
--   create index concurrently if not exists events_tenant_listed on events (tenant_id, created_at, id);
--   create index concurrently if not exists deliveries_tenant_listed on deliveries (tenant_id, created_at, id);
--   create index concurrently if not exists deliveries_endpoint_listed on deliveries (endpoint_id, created_at, id);
--   drop index concurrently if exists events_tenant_created;
--   drop index concurrently if exists deliveries_tenant_created;
--   drop index concurrently if exists deliveries_endpoint_created;
-- and this migration does nothing more.
create index if not exists events_tenant_listed on events (tenant_id, created_at, id);
create index if not exists deliveries_tenant_listed on deliveries (tenant_id, created_at, id);
create index if not exists deliveries_endpoint_listed on deliveries (endpoint_id, created_at, id);
drop index if exists events_tenant_created;
drop index if exists deliveries_tenant_created;
drop index if exists deliveries_endpoint_created;
