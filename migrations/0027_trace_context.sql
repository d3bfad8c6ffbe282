-- Issue 14: OpenTelemetry.
--
-- `trace_context` is the W3C trace context of the publish span that created
-- the event, as the propagator writes it ({"traceparent": "…", "tracestate":
-- "…"}), so a worker in any process, at any later attempt, makes its
-- `webhook send` span a child of that publish. Written only while Herald
-- exports traces (OTEL_EXPORTER_OTLP_ENDPOINT set); null otherwise.
alter table events add column trace_context jsonb;

-- Whether the webhook request carries the attempt span's `traceparent`
-- (and `tracestate`) header. Off by default: a receiver outside the
-- platform's own tracing has no use for Herald's trace ids.
alter table endpoints add column send_trace_context boolean not null default false;
