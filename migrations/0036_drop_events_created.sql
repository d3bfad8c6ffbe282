-- Retention now finds old events per tenant through events_tenant_created
-- (tenant_id, created_at), which the event listings keep anyway
-- (src/store/retention.ts). events_created (created_at), added by 0008 for
-- retention alone, was one more index entry written by every publish.
drop index if exists events_created;
