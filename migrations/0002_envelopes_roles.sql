-- Platform contracts: envelope templates and endpoint defaults per tenant,
-- envelope templates per event type, and read-only tokens.

-- {"envelope": {...template...}, "endpointDefaults": {"signature": ..., "retry": ..., "timeoutMs": ..., "headers": ...}}
alter table tenants add column settings jsonb not null default '{}';

-- An event type's envelope template overrides its tenant's.
alter table event_types add column envelope jsonb;

-- The exact bytes delivered when an envelope template applied at publish
-- (null = the payload itself is the body).
alter table events add column body text;

-- `manage`: read and change the tenant's configuration and publish;
-- `read`: read only (dashboards for people who must not change webhooks).
alter table api_tokens add column role text not null default 'manage' check (role in ('manage', 'read'));
