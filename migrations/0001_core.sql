-- Herald core schema. Runs unchanged on PostgreSQL 15+ and on PGlite.
-- Every row carries tenant_id (except the global event-type catalogue) so the
-- schema can later be distributed by tenant without a rewrite.

create table tenants (
  id          text primary key,
  name        text not null,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);

-- The catalogue of event types is shared by all tenants (the platform defines
-- what it publishes; tenants choose what they subscribe to).
create table event_types (
  name         text primary key,
  description  text,
  schema       jsonb,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now()
);

create table endpoints (
  id            text primary key,
  tenant_id     text not null references tenants (id) on delete cascade,
  url           text not null,
  description   text not null default '',
  -- null = every event type; otherwise exact names and `prefix.*` / `*` patterns
  event_types   text[],
  disabled      boolean not null default false,
  disabled_reason text,
  headers       jsonb not null default '{}',
  signature     jsonb not null,
  retry         jsonb not null,
  timeout_ms    integer not null,
  secret        text not null,
  -- [{"secret": "...", "expiresAt": "ISO"}]: previous secrets still signing during their grace period
  old_secrets   jsonb not null default '[]',
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now()
);
create index endpoints_tenant on endpoints (tenant_id, created_at, id);

create table events (
  tenant_id   text not null references tenants (id) on delete cascade,
  id          text not null,
  type        text not null,
  -- `json`, not `jsonb`: the exact bytes published are the bytes delivered and signed.
  payload     json not null,
  -- millisecond precision so a cursor round-trips through JavaScript dates
  created_at  timestamptz not null default date_trunc('milliseconds', now()),
  primary key (tenant_id, id)
);
create index events_tenant_created on events (tenant_id, created_at desc, id desc);

create table deliveries (
  id               text primary key,
  tenant_id        text not null,
  event_id         text not null,
  endpoint_id      text not null references endpoints (id) on delete cascade,
  status           text not null default 'pending' check (status in ('pending', 'succeeded', 'failed')),
  attempts         integer not null default 0,
  -- When the delivery is next due. While a worker holds it, this is the lease
  -- expiry: a crashed worker's delivery becomes due again when its lease ends.
  next_attempt_at  timestamptz,
  -- Fencing token of the claim that holds the row; results are only written
  -- by the claim that still owns it.
  lease_token      text,
  -- Set by a manual retry: one attempt, never rescheduled.
  manual           boolean not null default false,
  last_attempt_at  timestamptz,
  last_status      integer,
  last_error       text,
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now(),
  foreign key (tenant_id, event_id) references events (tenant_id, id) on delete cascade
);
-- The claim query's index: only claimable rows are in it, so it stays small
-- however many finished deliveries the table holds.
create index deliveries_due on deliveries (next_attempt_at) where status = 'pending';
create index deliveries_event on deliveries (tenant_id, event_id);
create index deliveries_tenant_created on deliveries (tenant_id, created_at desc, id desc);
create index deliveries_endpoint_status on deliveries (endpoint_id, status, updated_at);

create table attempts (
  id                text primary key,
  delivery_id       text not null references deliveries (id) on delete cascade,
  tenant_id         text not null,
  endpoint_id       text not null,
  event_id          text not null,
  attempt_number    integer not null,
  started_at        timestamptz not null,
  duration_ms       integer not null,
  request_url       text not null,
  request_headers   jsonb not null,
  response_status   integer,
  response_headers  jsonb,
  response_body     text,
  response_body_truncated boolean not null default false,
  -- dns | connect | tls | timeout | reset | blocked | invalid_response | endpoint_disabled | ...
  error_code        text,
  error_message     text,
  created_at        timestamptz not null default now()
);
create index attempts_delivery on attempts (delivery_id, attempt_number);
create index attempts_endpoint_started on attempts (endpoint_id, started_at);

create table audit_log (
  id           bigint generated always as identity primary key,
  tenant_id    text,
  actor        text not null,
  action       text not null,
  target_type  text,
  target_id    text,
  details      jsonb not null default '{}',
  created_at   timestamptz not null default now()
);
create index audit_log_tenant on audit_log (tenant_id, id desc);

create table api_tokens (
  id          text primary key,
  -- null only for tokens with admin rights issued through the API (none yet)
  tenant_id   text references tenants (id) on delete cascade,
  name        text not null default '',
  -- SHA-256 of the token: tokens are 256-bit random values, so a fast hash is enough
  token_hash  text not null unique,
  created_at  timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at  timestamptz
);

-- Does an endpoint subscribed to `patterns` receive an event of type `t`?
-- null patterns = every type; `*` = every type; `prefix.*` = every type under
-- prefix; anything else matches exactly. Herald's own meta events
-- (`webhook.*`) reach only endpoints that name them (exactly or `webhook.*`),
-- never through a catch-all.
create function herald_type_matches(patterns text[], t text) returns boolean
language sql immutable parallel safe as $$
  select case
    when t like 'webhook.%' then coalesce(t = any (patterns) or 'webhook.*' = any (patterns), false)
    when patterns is null then true
    else exists (
      select 1 from unnest(patterns) p
      where p = '*' or p = t or (right(p, 2) = '.*' and left(t, length(p) - 1) = left(p, length(p) - 1))
    )
  end
$$;
