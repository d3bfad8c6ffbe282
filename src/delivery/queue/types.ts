import type { Template } from '../envelope.js';
import type { OldSecret, RetryPolicy, SignatureConfig } from '../types.js';
import type { BrokerDestination } from '../destinations/types.js';

/** What a worker keeps in memory about an endpoint, per version of its settings. */
export interface EndpointSettings {
  url: string;
  /** A broker to publish to instead of POSTing to `url` (null: an HTTP endpoint), its URL decrypted. */
  destination: BrokerDestination | null;
  headers: Record<string, string>;
  signature: SignatureConfig;
  retry: RetryPolicy;
  timeoutMs: number;
  /** The signing secret, decrypted. */
  secret: string;
  oldSecrets: OldSecret[];
  /** Send the attempt span's `traceparent` with the request (only while Herald exports traces; telemetry/). */
  sendTraceContext: boolean;
  /** The endpoint's transformation, JavaScript source (null = none; see src/transform/). */
  transformation: string | null;
}

/** A delivery a worker has claimed, with what it needs to send it. */
export interface ClaimedDelivery extends EndpointSettings {
  id: string;
  tenantId: string;
  eventId: string;
  eventType: string;
  endpointId: string;
  /** Attempts made before this one. */
  attempts: number;
  /** A manual retry: one attempt, never rescheduled. */
  manual: boolean;
  /** The exact bytes to POST: the enveloped body, or the stored payload (compact JSON). */
  payload: string;
  /** The tenant's envelope template, for the meta events this delivery's outcome may publish. */
  tenantEnvelope: Template | null;
  /** Whether some endpoint of the tenant subscribes to webhook.delivered / webhook.failed. */
  wantsDelivered: boolean;
  wantsFailed: boolean;
  endpointDisabled: boolean;
  /** The endpoint had failures on record when claimed: a success must reset its health. */
  endpointUnhealthy: boolean;
  /** The endpoint's rate limit (null = none). */
  rateLimitPerSecond: number | null;
  /** Fencing token of the claim: results only apply while the queue row still carries it. */
  leaseToken: string;
}

/** The fields of a leased delivery that are its own, its event's or its tenant's. */
export type DeliveryOwn = Pick<
  ClaimedDelivery,
  'id' | 'tenantId' | 'eventId' | 'eventType' | 'endpointId' | 'attempts' | 'manual' | 'payload' | 'tenantEnvelope' | 'wantsDelivered' | 'wantsFailed'
>;

/** An endpoint as a claim or a publish's hand-off reads it beside its deliveries. */
export interface EndpointState {
  /** Its settings' version (`updated_at`), see EndpointConfigs. */
  version: string;
  disabled: boolean;
  unhealthy: boolean;
  rateLimitPerSecond: number | null;
}

/** The outcome of one attempt, ready to be written. */
export interface AttemptResult {
  delivery: ClaimedDelivery;
  attemptId: string;
  /** New delivery state. */
  status: 'pending' | 'succeeded' | 'failed';
  /** Delay before the next attempt when status is pending. */
  retryInMs: number | null;
  startedAt: Date;
  durationMs: number;
  requestHeaders: Record<string, string>;
  responseStatus: number | null;
  responseHeaders: Record<string, string> | null;
  responseBody: string | null;
  responseBodyTruncated: boolean;
  errorCode: string | null;
  errorMessage: string | null;
  /** No HTTP request was made (e.g. the endpoint was disabled): nothing to put in the attempts table. */
  skipped: boolean;
  /** Whether this attempt uses up one of the retry policy's attempts (not when skipped or aborted by shutdown). */
  counted: boolean;
}

/** Thresholds of endpoint health; 0 turns a rule off. */
export interface HealthRules {
  /** Consecutive failed attempts that open an endpoint's circuit. */
  circuitBreakerFailures: number;
  /** How long an open circuit stays open, in seconds. */
  circuitBreakerCooldownSeconds: number;
  /** Consecutive failed attempts that disable an endpoint. */
  disableAfterFailures: number;
  /** Seconds of nothing but failures that disable an endpoint. */
  disableAfterSeconds: number;
}
