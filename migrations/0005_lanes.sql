-- Two lanes for claims: first attempts and retries, each with its own
-- partial index, so a retry storm against one endpoint never sits in front
-- of fresh events to the others.
create index deliveries_due_fresh on deliveries (next_attempt_at) where status = 'pending' and attempts = 0;
create index deliveries_due_retry on deliveries (next_attempt_at) where status = 'pending' and attempts > 0;
drop index deliveries_due;
