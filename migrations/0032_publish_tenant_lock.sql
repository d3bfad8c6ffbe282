-- One lock on the tenant per publish statement instead of one foreign-key
-- check per event.
--
-- events.tenant_id referenced tenants: a trigger per inserted event looked
-- the tenant up and took a FOR KEY SHARE lock on its row, and with several
-- publishes of one tenant at once that lock became a multixact shared by
-- all of them, extended by every check. Four connections publishing
-- batches of 1,000 events, alternated: PostgreSQL's CPU per event
-- 43.8-51.5 µs with this lock against 47.3-52.9 µs with the check (in a
-- first, schema-only comparison on a slower minute: 47-66 against 74-82).
--
-- The check kept a publish from adding events to a tenant being deleted.
-- herald_lock_tenant does that once per statement: it takes the same lock
-- on the tenant's row, so a deletion waits for publishes in flight and a
-- publish that comes after the deletion finds no row and fails with the
-- same error as the check did (23503, which the API answers with 404).
-- store/tenants.ts deletes the tenant's events in a statement after the
-- tenant's row, so it sees the publishes it waited for.
alter table events drop constraint if exists events_tenant_id_fkey;

create or replace function herald_lock_tenant(t text) returns boolean
language plpgsql volatile as $$
begin
  perform from tenants where id = t for key share;
  if not found then
    raise foreign_key_violation using
      message = format('tenant "%s" does not exist', t),
      table = 'events',
      column = 'tenant_id';
  end if;
  return true;
end
$$;
