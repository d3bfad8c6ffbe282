-- A vacuum that finds empty pages at the end of a table truncates them,
-- under an ACCESS EXCLUSIVE lock: on the queue, which the worker vacuums
-- every thousand outcomes and which empties and fills again all the time,
-- that lock stalled every publish and claim behind it. The pages are
-- reused as the queue fills again; keeping them costs a few MB at most.
alter table queue set (vacuum_truncate = false);
