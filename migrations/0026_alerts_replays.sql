-- Issue 13, item 9: operator alerts. `alert_states` holds the last state the
-- alert monitor announced for an endpoint (failing | disabled | ok); only
-- endpoints that were ever announced have a row. The monitor moves a row
-- with `insert … on conflict do update … where state <> excluded.state`, so
-- of two monitors that see the same change only one gets the row back and
-- queues an alert.
create table alert_states (
  endpoint_id  text primary key references endpoints (id) on delete cascade,
  tenant_id    text not null,
  state        text not null,
  changed_at   timestamptz not null default now()
);
create index alert_states_not_ok on alert_states (endpoint_id) where state <> 'ok';

-- The alerts to send (an outbox): one row per state change, with what the
-- message says about it frozen at detection time. A send pass claims the
-- due ones (skip locked) and posts them as one message; a failed post moves
-- `next_attempt_at` on. Rows are kept a week after they are sent or given up.
create table alerts (
  id               text primary key,
  tenant_id        text not null,
  endpoint_id      text not null,
  -- failing | disabled | recovered
  kind             text not null,
  -- tenantName, url, consecutiveFailures, lastStatus, lastErrorCode, lastError, reason
  detail           jsonb not null,
  created_at       timestamptz not null default now(),
  -- pending | sent | dropped
  status           text not null default 'pending',
  attempts         integer not null default 0,
  next_attempt_at  timestamptz not null default now(),
  sent_at          timestamptz,
  last_error       text
);
create index alerts_due on alerts (next_attempt_at) where status = 'pending';
create index alerts_created on alerts (created_at);

-- Issue 13, item 4: a delivery sent once more, as signed, to another URL
-- (a tunnel, a staging receiver) without changing the endpoint. Kept apart
-- from `attempts` so a replay never counts toward the delivery's attempts,
-- its state or the endpoint's health.
create table delivery_replays (
  id               text primary key,
  delivery_id      text not null references deliveries (id) on delete cascade,
  tenant_id        text not null,
  -- who asked for it (the audit log's actor)
  actor            text not null,
  started_at       timestamptz not null,
  duration_ms      integer not null,
  url              text not null,
  -- json, not jsonb: the headers kept in the order they were sent, like those of attempts (0011)
  request_headers  json not null,
  -- stored as the API shows them: {status, headers, body, bodyTruncated}, or null after a network error
  response         json,
  -- {code, message} of a network error, or null
  error            json
);
create index delivery_replays_delivery on delivery_replays (delivery_id, started_at);
