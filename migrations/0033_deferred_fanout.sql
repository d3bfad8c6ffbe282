-- The batch route's deliveries written by the workers, after the 202.
--
-- A batch of 1,000 events to one endpoint wrote 1,000 event rows, 1,000
-- delivery records and 1,000 queue rows in its statement, nine index
-- entries an event; the delivery record and the queue row were about half
-- of PostgreSQL's time on the route (bench/intake-rows.ts). Now the
-- statement writes the events and one row here, which says which
-- deliveries the batch makes (matched by the API against the tenant's
-- subscriptions at a generation the statement checks, as every publish
-- is): the delivery records and queue rows follow from it in a worker's
-- own statement (delivery/queue/fanout.ts), which deletes the row in the
-- same transaction. Accepted stays durable: the events and this row commit
-- together, and a row no worker has taken yet is taken by the next one.
--
-- Only deliveries that need no order are deferred: a batch with an
-- ordering key, or matched to an ordered endpoint, is written whole at
-- publish as before (its `seq` must follow publish order across routes).
create table fanouts (
  id           bigint generated always as identity primary key,
  tenant_id    text collate "C" not null,
  -- when the batch's events were created: its deliveries' creation time and
  -- when they are first due; retention keeps events from then on while the
  -- row waits
  created_at   timestamptz not null,
  -- one element per delivery, in the batch's order
  delivery_ids text[] collate "C" not null,
  event_ids    text[] collate "C" not null,
  endpoint_ids text[] collate "C" not null
) with (fillfactor = 90, vacuum_truncate = false,
        autovacuum_vacuum_threshold = 100, autovacuum_vacuum_scale_factor = 0);

-- Stored out of line as they are, not compressed: a row of three 1,000-id
-- arrays and a timestamp array took 3.2-3.4 ms to insert this way against
-- 3.7-4.7 ms with pglz (200 rows each, alternated), for 115 KB a row against
-- 38 KB; a row lives for milliseconds.
alter table fanouts alter column delivery_ids set storage external,
                    alter column event_ids set storage external,
                    alter column endpoint_ids set storage external;
