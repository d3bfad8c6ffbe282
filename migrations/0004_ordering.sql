-- Ordered delivery. An event may carry an ordering key; an endpoint may ask
-- for all its deliveries in order. Deliveries that share (endpoint,
-- ordering key) go out one at a time in publish order: the next waits until
-- the previous one succeeded or finally failed. Different keys proceed in
-- parallel.
alter table events add column ordering_key text;
alter table endpoints add column ordered boolean not null default false;
alter table deliveries add column ordering_key text;
-- Publish order (identity values are handed out in insert order).
alter table deliveries add column seq bigint generated always as identity;
create index deliveries_ordered on deliveries (endpoint_id, ordering_key, seq)
  where status = 'pending' and ordering_key is not null;
