-- The deliveries of an event, found through the time the event was created.
--
-- Every delivery row is written by the statement that creates its event
-- (the two publish statements, and the outcome statement for `webhook.*`
-- meta events), with the event's `created_at` as its own. So an event's
-- deliveries are the tenant's deliveries created at that instant with that
-- event id: `deliveries_tenant_created` (tenant_id, created_at, id) finds
-- them, and `deliveries_event` (tenant_id, event_id), one of the four index
-- entries every delivery cost at publish, can go. The lookups say so:
-- `d.created_at = e.created_at` beside `d.event_id = e.id` (src/store).
--
-- Rows written before the publish took the event's time for its deliveries
-- (the first migrations defaulted each column to its own now()) are made
-- to agree first; nothing writes a delivery's created_at after this.
update deliveries d set created_at = e.created_at
  from events e
 where e.tenant_id = d.tenant_id and e.id = d.event_id and d.created_at <> e.created_at;

drop index deliveries_event;
