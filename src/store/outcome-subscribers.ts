/*
 * Which endpoints receive the outcome events `webhook.delivered` and
 * `webhook.failed`: those that name them, or `webhook.*` (an endpoint
 * subscribed to every type does not get them; see herald_type_patterns).
 * SQL fragments over an `endpoints ep` row, shared by the publish (hand-off)
 * and the claim, which both tell the worker whether to build those events.
 */

/** Endpoints that may want either (the filter of the lookup). */
export const NAMES_OUTCOME_EVENTS = `ep.event_types && array['webhook.delivered', 'webhook.failed', 'webhook.*']`;

/** Aggregates over the endpoints found: does any want each. */
export const WANTS_OUTCOME_EVENTS = `coalesce(bool_or(ep.event_types && array['webhook.delivered', 'webhook.*']), false) as wants_delivered,
         coalesce(bool_or(ep.event_types && array['webhook.failed', 'webhook.*']), false) as wants_failed`;
