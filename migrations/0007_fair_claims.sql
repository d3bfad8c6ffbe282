-- Claims go round the endpoints that have due work, a few rows from each,
-- instead of taking the oldest due rows of the whole table. Finding the
-- next endpoint with pending rows, and its earliest one, is one probe of
-- this index (a loose index scan), so an endpoint with a million queued
-- retries costs a claim no more than one with a single delivery, and it
-- cannot crowd the others out of a batch.
create index deliveries_pending_by_endpoint on deliveries (endpoint_id, next_attempt_at) where status = 'pending';
-- One index over all pending rows is enough again for "when is the next
-- one due" and the queue gauges; the lanes' two indexes are gone with the lanes.
create index deliveries_due on deliveries (next_attempt_at) where status = 'pending';
drop index deliveries_due_fresh;
drop index deliveries_due_retry;
