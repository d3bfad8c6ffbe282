import type { ClaimedDelivery, DeliveryOwn, EndpointSettings, EndpointState } from './types.js';

/**
 * A leased delivery, put together from its own fields, its endpoint's
 * settings and state, and the lease: how a claim and a publish's hand-off
 * both make one. Every field is named, so every delivery has one shape and
 * nothing is made per endpoint in between. Spreading a per-endpoint object
 * into each delivery made an object per endpoint and per hand-off (with a
 * fan-out of 10, one per delivery) that lived as long as the batch: a
 * sampling heap profile of a 20 s `serve` run put 37 % of everything
 * promoted to the old generation there.
 */
export function leasedDelivery(own: DeliveryOwn, endpoint: EndpointSettings, state: EndpointState, leaseToken: string): ClaimedDelivery {
  return {
    id: own.id,
    tenantId: own.tenantId,
    eventId: own.eventId,
    eventType: own.eventType,
    endpointId: own.endpointId,
    attempts: own.attempts,
    manual: own.manual,
    payload: own.payload,
    tenantEnvelope: own.tenantEnvelope,
    wantsDelivered: own.wantsDelivered,
    wantsFailed: own.wantsFailed,
    url: endpoint.url,
    destination: endpoint.destination,
    headers: endpoint.headers,
    signature: endpoint.signature,
    retry: endpoint.retry,
    timeoutMs: endpoint.timeoutMs,
    secret: endpoint.secret,
    oldSecrets: endpoint.oldSecrets,
    sendTraceContext: endpoint.sendTraceContext,
    transformation: endpoint.transformation,
    endpointDisabled: state.disabled,
    endpointUnhealthy: state.unhealthy,
    rateLimitPerSecond: state.rateLimitPerSecond,
    leaseToken,
  };
}
