-- Per-endpoint rate limits, and worker heartbeats so a limit can be shared
-- out between the worker processes that are alive.
alter table endpoints add column rate_limit_per_second double precision;

create table workers (
  id            text primary key,
  started_at    timestamptz not null default now(),
  last_seen_at  timestamptz not null default now()
);
