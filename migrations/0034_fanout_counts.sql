-- How many deliveries each waiting list makes, so that the queue's gauges
-- (`herald_queue_due_deliveries`, the oldest due delivery) can count the
-- deliveries of batches no worker has written out yet without reading every
-- list's arrays: with the workers down, a thousand batches wait as a
-- thousand rows of 1,000-id arrays stored out of line. Null for a list
-- written before this column (counted from its array instead).
alter table fanouts add column deliveries int;
