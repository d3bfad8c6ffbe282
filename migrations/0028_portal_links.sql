-- Issue 13 item 7: portal links listed and revocable one by one.
--
-- One row per portal link issued from now on. `id` is the link id the signed
-- token carries (its `jti`), so checking a link is a primary-key lookup.
-- Never the token or the URL: they are shown once, at creation. Links issued
-- before this migration have no row (and say so in their claims): they keep
-- working until they expire or the tenant's links are all revoked
-- (tenants.portal_generation, migration 0020).
create table portal_links (
  id            text primary key,
  tenant_id     text not null references tenants (id) on delete cascade,
  created_at    timestamptz not null default now(),
  expires_at    timestamptz not null,
  role          text not null check (role in ('manage', 'read')),
  platform_name text,
  color         text,
  -- The audit log's actor who created it ('admin' today).
  created_by    text not null,
  revoked_at    timestamptz
);
create index portal_links_tenant_created on portal_links (tenant_id, created_at desc, id desc);
