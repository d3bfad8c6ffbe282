-- The hot queue apart from the delivery record.
--
-- Until now the claim and the outcome each updated the wide `deliveries`
-- row, and because `next_attempt_at` and `status` were indexed, neither
-- update was HOT: every claim and every outcome inserted a new entry into
-- seven indexes and left a dead one behind. The claim then walked those
-- dead entries at the head of each endpoint's range until a VACUUM removed
-- them, which on a server with autovacuum off (and on PGlite) is never: a
-- fresh database slowed from ~2,000 to ~500 deliveries/s within a minute.
--
-- Now a delivery that still has to go out has one narrow row here:
-- inserted with the delivery, leased by a HOT update (the lease columns
-- are in no index), and deleted once the delivery is final. The
-- `deliveries` row is written twice in its life (insert, final outcome)
-- and carries the history the API shows. Herald vacuums this table itself
-- (src/delivery/queue/upkeep.ts), so dead rows never pile up in it.
create table queue (
  delivery_id   text primary key,
  tenant_id     text not null,
  event_id      text not null,
  endpoint_id   text not null,
  -- when the delivery is next due
  due_at        timestamptz not null,
  -- the claim that holds it (fencing token) and until when; null when free
  lease_token   text,
  lease_until   timestamptz,
  -- attempts made so far, and whether the next one is a manual retry (one attempt, never rescheduled)
  attempts      integer not null default 0,
  manual        boolean not null default false,
  -- ordered delivery: deliveries that share (endpoint, key) go one at a time in `seq` order
  ordering_key  text,
  seq           bigint not null
) with (fillfactor = 50, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_scale_factor = 0, autovacuum_analyze_threshold = 1000, autovacuum_analyze_scale_factor = 0);

-- The claim's only index: each endpoint's rows in due order (a loose index
-- scan finds the endpoints with due work, one probe each).
create index queue_endpoint_due on queue (endpoint_id, due_at);
create index queue_ordered on queue (endpoint_id, ordering_key, seq) where ordering_key is not null;

insert into queue (delivery_id, tenant_id, event_id, endpoint_id, due_at, attempts, manual, ordering_key, seq)
select id, tenant_id, event_id, endpoint_id, coalesce(next_attempt_at, now()), attempts, manual, ordering_key, seq
  from deliveries where status = 'pending';

-- The queue's indexes on deliveries are gone with the queue; the endpoint
-- listing no longer indexes status and updated_at, so a final outcome that
-- finds room on its page is a HOT update.
drop index deliveries_due;
drop index deliveries_pending_by_endpoint;
drop index deliveries_ordered;
drop index deliveries_endpoint_status;
create index deliveries_endpoint_created on deliveries (endpoint_id, created_at desc, id desc);
alter table deliveries set (fillfactor = 50);
alter table deliveries drop column lease_token;

-- Fan-out without a function call per (event, endpoint): the patterns that
-- would match a type, worked out once per event, then one array overlap
-- per endpoint (herald_type_matches is a SQL function PostgreSQL cannot
-- inline: 3,200 calls, 12 of the 26 ms of publishing 32 events to a tenant
-- with 100 endpoints). Same rules as herald_type_matches: `*`, the type
-- itself, and `prefix.*` for every prefix ending in a dot; Herald's own
-- `webhook.*` and `endpoint.disabled` events only reach endpoints that name them.
create function herald_type_patterns(t text) returns text[]
language sql immutable parallel safe as $$
  select case
    when t like 'webhook.%' then array[t, 'webhook.*']
    when t = 'endpoint.disabled' then array[t]
    else array['*', t] || coalesce(
      (select array_agg(left(t, p) || '*') from generate_series(1, length(t)) p where substr(t, p, 1) = '.'), '{}')
  end
$$;

-- Whether an endpoint subscribed to every type (null) receives `t`.
create function herald_type_open(t text) returns boolean
language sql immutable parallel safe as $$
  select not (t like 'webhook.%' or t = 'endpoint.disabled')
$$;

-- No foreign keys on the rows every publish and every outcome write: their
-- triggers were a fifth to a third of the publish statement (32 events ×
-- 10 endpoints: 4-9 ms of 16-22 ms, one trigger call per row and key) and
-- the attempt insert's check. What the cascades did is done by the three
-- statements that remove events, endpoints and tenants (store/retention.ts,
-- store/endpoints.ts, store/tenants.ts), each in one statement.
alter table deliveries drop constraint deliveries_endpoint_id_fkey;
alter table deliveries drop constraint deliveries_tenant_id_event_id_fkey;
alter table attempts drop constraint attempts_delivery_id_fkey;
