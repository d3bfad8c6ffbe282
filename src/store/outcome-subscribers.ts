/*
 * Which endpoints receive the outcome events `webhook.delivered` and
 * `webhook.failed`: those that name them, or `webhook.*` (an endpoint
 * subscribed to every type does not get them; see herald_type_patterns).
 * SQL fragments over an `endpoints ep` row, shared by the publish (hand-off)
 * and the claim, which both tell the worker whether to build those events.
 */

/** The subscriptions that receive each outcome event (also matched in TypeScript: intake/fanout-cache.ts). */
export const DELIVERED_SUBSCRIPTIONS = ['webhook.delivered', 'webhook.*'] as const;
export const FAILED_SUBSCRIPTIONS = ['webhook.failed', 'webhook.*'] as const;

const sqlArray = (xs: readonly string[]): string => `array[${xs.map((x) => `'${x}'`).join(', ')}]`;

/** Endpoints that may want either (the filter of the lookup). */
export const NAMES_OUTCOME_EVENTS = `ep.event_types && ${sqlArray([...new Set([...DELIVERED_SUBSCRIPTIONS, ...FAILED_SUBSCRIPTIONS])])}`;

/** Aggregates over the endpoints found: does any want each. */
export const WANTS_OUTCOME_EVENTS = `coalesce(bool_or(ep.event_types && ${sqlArray(DELIVERED_SUBSCRIPTIONS)}), false) as wants_delivered,
         coalesce(bool_or(ep.event_types && ${sqlArray(FAILED_SUBSCRIPTIONS)}), false) as wants_failed`;
