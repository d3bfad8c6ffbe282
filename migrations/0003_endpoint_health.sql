-- Endpoint health: a circuit breaker that pauses an endpoint after repeated
-- failures, and automatic disabling of an endpoint that only fails.
alter table endpoints add column consecutive_failures integer not null default 0;
-- When the current run of failures began (null while healthy).
alter table endpoints add column failing_since timestamptz;
-- While in the future, workers send nothing to the endpoint (circuit open).
alter table endpoints add column circuit_open_until timestamptz;

-- `endpoint.disabled` is, like `webhook.*`, an operational event: it reaches
-- only endpoints that name it, never through a catch-all subscription.
create or replace function herald_type_matches(patterns text[], t text) returns boolean
language sql immutable parallel safe as $$
  select case
    when t like 'webhook.%' then coalesce(t = any (patterns) or 'webhook.*' = any (patterns), false)
    when t = 'endpoint.disabled' then coalesce(t = any (patterns), false)
    when patterns is null then true
    else exists (
      select 1 from unnest(patterns) p
      where p = '*' or p = t or (right(p, 2) = '.*' and left(t, length(p) - 1) = left(p, length(p) - 1))
    )
  end
$$;
