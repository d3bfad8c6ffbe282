-- Issue 11: credentials are bound to the tenant they were issued for.
--
-- A tenant deleted and created again under the same id is another tenant:
-- portal links carry the incarnation they were issued under, and one for an
-- earlier incarnation opens nothing. (API tokens go with their tenant:
-- ON DELETE CASCADE.) Each existing tenant gets its own random value.
alter table tenants add column incarnation uuid not null default gen_random_uuid();

-- Portal links are stateless (signed, not stored). Raising this number
-- revokes every link of the tenant issued before: a link carries the
-- generation it was issued under and must match the current one.
alter table tenants add column portal_generation integer not null default 0;
