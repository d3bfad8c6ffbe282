-- The batch route's idempotency check inside its publish statement.
--
-- A batch that names its event ids is all or nothing: an id already used by
-- an event with another type or payload refuses the whole batch (409). The
-- route used to ask which of its ids exist before publishing, a statement of
-- its own with one index probe per event (about a fifth of PostgreSQL's time
-- on the route, for a check that finds nothing in the usual batch). Now the
-- publish statement inserts with ON CONFLICT DO NOTHING, which probes those
-- ids anyway, and compares only the ids it did not insert with the events
-- that hold them; on a conflict it calls this function, whose error rolls
-- the whole statement back. The error's detail is the event's position in
-- the batch (1-based), which the API names in its answer.
create or replace function herald_refuse_replay(id text, ord bigint) returns boolean
language plpgsql volatile as $$
begin
  raise exception using
    errcode = 'HR409',
    message = format('event %s was already published with another type or payload', id),
    detail = ord::text;
end
$$;
