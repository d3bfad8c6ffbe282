-- Issue 14: transformations per endpoint.
--
-- `transformation` is the JavaScript source of the endpoint's function
-- `(webhook) => webhook`, run by the worker before it signs each request
-- (src/transform/); null for an endpoint without one. Workers read it with
-- the endpoint's other settings, once per version of them.
alter table endpoints add column transformation text;
