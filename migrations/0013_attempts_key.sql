-- Attempts are read by delivery (the delivery detail), by endpoint and time
-- (stats) and deleted by delivery (retention); never by their own id alone.
-- One key on (delivery_id, id) serves the first and the last and keeps ids
-- unique, instead of a key on id and a second index on delivery: one index
-- entry fewer per attempt written, on the outcome statement's hottest insert.
alter table attempts drop constraint attempts_pkey;
alter table attempts add primary key (delivery_id, id);
drop index attempts_delivery;
