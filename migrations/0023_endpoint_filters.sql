-- Issue 14: payload filters per endpoint.
--
-- `filter` is the endpoint's filter as the API shows it; `filter_path` and
-- `filter_vars` are what it compiles to (src/filters/compile-filter.ts), a
-- strict SQL/JSON path predicate and its variables, which the publish
-- statement hands to jsonb_path_match for each (event, endpoint) pair. All
-- three are null for an endpoint without a filter.
alter table endpoints add column filter jsonb;
alter table endpoints add column filter_path jsonpath;
alter table endpoints add column filter_vars jsonb;

-- Publish builds the event's JSON document only for tenants with a filtered
-- endpoint: this partial index answers that once per statement.
create index endpoints_filtered on endpoints (tenant_id) where filter_path is not null;
