-- Issue 12: `herald listen`. A session is a temporary endpoint whose URL is
-- Herald's own relay route; the API process holding the CLI's stream forwards
-- each delivery to the CLI. `last_seen_at` is moved on by that process while
-- the stream is open; a session not seen for the grace period is ended (its
-- endpoint disabled, history kept), and removed a day later.
create table listen_sessions (
  id            text primary key,
  tenant_id     text not null references tenants (id) on delete cascade,
  endpoint_id   text not null references endpoints (id) on delete cascade,
  -- who opened it and for what (token, forward-to URL, event types): the same
  -- `herald listen` command run again resumes the session, and so its secret
  client_key    text not null,
  forward_to    text not null,
  created_at    timestamptz not null default now(),
  last_seen_at  timestamptz not null default now(),
  ended_at      timestamptz
);
create index listen_sessions_open on listen_sessions (tenant_id, client_key) where ended_at is null;
create index listen_sessions_seen on listen_sessions (last_seen_at) where ended_at is null;
