import { Type, type Static, type TUnion } from 'typebox';

/**
 * Route schemas: the single source of request validation, response
 * serialization and the OpenAPI document.
 */

const ID_PATTERN = '^[A-Za-z0-9_:-]+$';
export const Id = Type.String({ minLength: 1, maxLength: 128, pattern: ID_PATTERN });
/** Event-type names: dot-separated segments of [A-Za-z0-9_-] (Standard Webhooks). */
export const EventTypeName = Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$' });
/** Subscription patterns: an exact name, `prefix.*`, or `*`. */
const TYPE_PATTERN = '^(\\*|[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*(\\.\\*)?)$';
export const EventTypePattern = Type.String({ minLength: 1, maxLength: 200, pattern: TYPE_PATTERN });
const Timestamp = Type.String({ format: 'date-time' });
export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/**
 * Any JSON value, on purpose: event payloads, body templates, JSON Schemas,
 * audit details. Marked `x-any-json` so that the OpenAPI document says so
 * and its check (test/openapi-schemas.test.ts) tells them from a schema
 * someone forgot to write.
 */
export const AnyJson = (description: string) => Type.Unknown({ description, 'x-any-json': true });
/** A JSON object whose keys and values are free, on purpose (see AnyJson). */
export const JsonObject = (description: string) => Type.Record(Type.String(), Type.Unknown(), { description, 'x-any-json': true });

/** One invalid field of a refused request. */
export const FieldProblem = Type.Object({ field: Type.String({ description: 'path of the field, e.g. body.retry.schedule' }), message: Type.String() });
export const ErrorBody = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Array(FieldProblem)) }),
});

export const TenantParams = Type.Object({ tenantId: Id });
export const EndpointParams = Type.Object({ tenantId: Id, endpointId: Id });
export const EventParams = Type.Object({ tenantId: Id, eventId: Id });
export const DeliveryParams = Type.Object({ tenantId: Id, deliveryId: Id });
export const TokenParams = Type.Object({ tenantId: Id, tokenId: Id });

export const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 250, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
});


// --- event types -------------------------------------------------------------
export const EventType = Type.Object({
  name: Type.String(),
  description: Nullable(Type.String()),
  schema: Nullable(JsonObject('JSON Schema that payloads of this type must match')),
  envelope: AnyJson('body template for events of this type (null: the tenant envelope or the bare payload)'),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export const EventTypeCreate = Type.Object(
  {
    name: EventTypeName,
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    schema: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'JSON Schema (draft 2020-12 subset ajv supports) that payloads must match' })),
    envelope: Type.Optional(Type.Unknown({ description: 'body template for events of this type; overrides the tenant envelope' })),
  },
  {
    additionalProperties: false,
    examples: [
      {
        name: 'invoice.paid',
        description: 'An invoice was paid in full',
        schema: { type: 'object', required: ['invoiceId', 'amount'], properties: { invoiceId: { type: 'string' }, amount: { type: 'integer' } } },
      },
    ],
  },
);
export const EventTypePatch = Type.Object(
  {
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    schema: Type.Optional(Nullable(Type.Record(Type.String(), Type.Unknown()))),
    envelope: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);

// --- endpoints ---------------------------------------------------------------
/**
 * A payload filter: free JSON by schema (its grammar is checked by
 * src/filters/parse-filter.ts, which names the bad operator or path).
 */
const FilterJson = (description: string) => JsonObject(description);
/** An endpoint's transformation: a JavaScript function expression, checked when saved (src/transform/). */
export const TRANSFORMATION_MAX_LENGTH = 64 * 1024;
const TransformationSource = Type.String({
  minLength: 1,
  maxLength: TRANSFORMATION_MAX_LENGTH,
  description:
    'JavaScript function (webhook) => webhook, given {method, url, eventId, eventType, headers, payload}; it may change payload, headers, eventType and the path/query of url; run in a sandbox before signing (null removes it)',
});
export const Signature = Type.Union([
  Type.Object({ scheme: Type.Literal('standard') }, { additionalProperties: false }),
  Type.Object(
    { scheme: Type.Literal('ed25519', { description: 'Standard Webhooks v1a: ed25519 signatures, a whsk_ signing key, receivers verify with its whpk_ public key' }) },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      scheme: Type.Literal('hmac-sha256'),
      header: Type.String({ minLength: 1, maxLength: 100, pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" }),
      encoding: Type.Optional(Type.Union([Type.Literal('hex'), Type.Literal('base64')])),
    },
    { additionalProperties: false },
  ),
]);
const RetryShapes = [
  Type.Object(
    {
      schedule: Type.Array(Type.Number({ minimum: 0, maximum: 7 * 24 * 3600 }), { maxItems: 50 }),
      jitter: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      backoff: Type.Literal('exponential'),
      initialSeconds: Type.Number({ minimum: 0, maximum: 7 * 24 * 3600 }),
      maxSeconds: Type.Number({ minimum: 0, maximum: 7 * 24 * 3600 }),
      maxRetries: Type.Integer({ minimum: 0, maximum: 50 }),
      factor: Type.Optional(Type.Number({ minimum: 1, maximum: 10 })),
      jitter: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    },
    { additionalProperties: false },
  ),
] as const;
/**
 * `{schedule: [...]}` or `{backoff: "exponential", ...}`. Written as
 * if/then/else on `backoff`, not anyOf: with anyOf a backoff policy with a
 * bad `initialSeconds` was reported as a missing `retry.schedule` (the
 * first branch's error); now only the chosen shape's errors are reported.
 */
export const Retry = Type.Unsafe<Static<TUnion<[...typeof RetryShapes]>>>({
  type: 'object',
  if: { type: 'object', required: ['backoff'] },
  then: RetryShapes[1],
  else: RetryShapes[0],
});
/** The retry policy in responses: the same two shapes as anyOf, which OpenAPI tools understand (if/then/else they do not). */
export const RetryOut = Type.Union([...RetryShapes]);
/**
 * A broker destination in requests: one loose object, so that a wrong or
 * missing field is reported by name from src/api/destination-settings.ts
 * rather than as the first branch of a union that did not match.
 */
const DestinationIn = Type.Object(
  {
    type: Type.String({ maxLength: 32, description: 'rabbitmq | nats' }),
    url: Type.String({
      minLength: 1,
      maxLength: 2048,
      description: 'amqp(s)://user:pass@host:5672/vhost or nats://[user:pass@]host:4222 (tls://); stored encrypted, shown with the password masked',
    }),
    exchange: Type.Optional(Type.String({ maxLength: 255, description: 'rabbitmq: the exchange to publish to ("" is the default exchange)' })),
    routingKey: Type.Optional(Type.String({ maxLength: 255, description: 'rabbitmq: the routing key (Default: "")' })),
    subject: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'nats: the subject, which a JetStream stream must capture' })),
  },
  { additionalProperties: false, description: 'deliver to a message broker instead of an HTTP url' },
);
/** A broker destination in responses, its URL's password masked. */
export const DestinationOut = Type.Union([
  Type.Object({ type: Type.Literal('rabbitmq'), url: Type.String(), exchange: Type.String(), routingKey: Type.String() }),
  Type.Object({ type: Type.Literal('nats'), url: Type.String(), subject: Type.String() }),
]);
const Headers = Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 4096 }), { maxProperties: 50 });
export const Endpoint = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  url: Type.String({ description: 'the HTTP URL; for a broker endpoint, the broker URL with its password masked' }),
  destination: Nullable(DestinationOut),
  description: Type.String(),
  eventTypes: Nullable(Type.Array(Type.String())),
  disabled: Type.Boolean(),
  disabledReason: Nullable(Type.String()),
  headers: Type.Record(Type.String(), Type.String()),
  signature: Signature,
  publicKey: Nullable(Type.String({ description: 'ed25519 scheme: the whpk_ public key receivers verify with (null for the HMAC schemes)' })),
  retry: RetryOut,
  timeoutMs: Type.Integer(),
  ordered: Type.Boolean(),
  rateLimitPerSecond: Nullable(Type.Number()),
  previousSecretExpiresAt: Nullable(Type.String({ description: 'until when a previous secret, rotated out, still signs beside the current one (null: none does)' })),
  filter: Nullable(FilterJson('payload filter events must match to be delivered here (null: none)')),
  sendTraceContext: Type.Boolean({ description: 'send the W3C traceparent of the attempt span with each request (only while Herald exports OpenTelemetry traces)' }),
  transformation: Nullable(Type.String({ description: 'JavaScript (webhook) => webhook run before each request is signed (null: none)' })),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export const EndpointCreated = Type.Intersect([Endpoint, Type.Object({ secret: Type.String() })]);
const endpointFields = {
  url: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: 'the HTTP URL to POST to (or give destination)' })),
  destination: Type.Optional(DestinationIn),
  description: Type.Optional(Type.String({ maxLength: 2000 })),
  eventTypes: Type.Optional(Nullable(Type.Array(EventTypePattern, { maxItems: 200 }))),
  disabled: Type.Optional(Type.Boolean()),
  headers: Type.Optional(Headers),
  signature: Type.Optional(Signature),
  retry: Type.Optional(Retry),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 300_000 })),
  ordered: Type.Optional(Type.Boolean({ description: 'deliver every event to this endpoint one at a time, in publish order' })),
  rateLimitPerSecond: Type.Optional(
    Nullable(Type.Number({ exclusiveMinimum: 0, maximum: 100_000, description: 'most deliveries per second to this endpoint (null = no limit)' })),
  ),
  sendTraceContext: Type.Optional(
    Type.Boolean({ description: 'send the W3C traceparent (and tracestate) of the attempt span with each request, while Herald exports OpenTelemetry traces (default false)' }),
  ),
  filter: Type.Optional(
    Nullable(
      FilterJson(
        'matched against the event {id, type, createdAt, payload}: $eq $neq $gt $gte $lt $lte $in $nin $startsWith $endsWith $exists $and $or $not, a plain value meaning $eq (null removes it)',
      ),
    ),
  ),
  transformation: Type.Optional(Nullable(TransformationSource)),
};
export const EndpointCreate = Type.Object(
  // No client-chosen id: endpoint ids are global, so a chosen id could reveal another tenant's endpoint.
  { ...endpointFields, secret: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })) },
  {
    additionalProperties: false,
    examples: [
      { url: 'https://example.com/webhooks', description: 'Billing service', eventTypes: ['invoice.*'] },
      { url: 'https://example.com/hooks', signature: { scheme: 'hmac-sha256', header: 'X-Signature', encoding: 'hex' }, retry: { schedule: [30, 300, 3600] } },
      { destination: { type: 'rabbitmq', url: 'amqps://herald:secret@rabbit.example.com:5671/billing', exchange: 'webhooks', routingKey: 'invoice' } },
      { destination: { type: 'nats', url: 'tls://nats.example.com:4222', subject: 'webhooks.billing' } },
    ],
  },
);
export const EndpointPatch = Type.Object(endpointFields, { additionalProperties: false });
export const SecretBody = Type.Object({
  secret: Type.String(),
  publicKey: Nullable(Type.String({ description: 'ed25519 scheme: the whpk_ public key of this secret (null for the HMAC schemes)' })),
});
export const SecretRotate = Type.Object(
  {
    secret: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
    graceSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 * 24 * 3600, default: 86_400 })),
  },
  { additionalProperties: false },
);
export const TestEvent = Type.Object(
  { eventType: Type.Optional(EventTypeName), payload: Type.Optional(Type.Record(Type.String(), Type.Unknown())) },
  { additionalProperties: false },
);
export const FilterTest = Type.Object(
  {
    event: Type.Object(
      {
        id: Type.Optional(Type.String({ maxLength: 200 })),
        type: Type.Optional(Type.String({ maxLength: 200 })),
        createdAt: Type.Optional(Timestamp),
        payload: Type.Optional(JsonObject('the sample event payload')),
      },
      { additionalProperties: false, description: 'a sample event; id, type and createdAt default to evt_sample, herald.test and now' },
    ),
    filter: Type.Optional(Nullable(FilterJson("a filter to try instead of the endpoint's saved one (e.g. before saving it)"))),
  },
  {
    additionalProperties: false,
    examples: [{ event: { type: 'invoice.paid', payload: { amount: 250, currency: 'EUR' } }, filter: { payload: { amount: { $gte: 100 } } } }],
  },
);
export const FilterTestResult = Type.Object({
  matches: Type.Boolean({ description: 'whether this event would be delivered to the endpoint (its event types aside)' }),
  reason: Type.String({ description: 'the condition that decided it' }),
});
export const TransformationTest = Type.Object(
  {
    event: Type.Optional(
      Type.Object(
        {
          type: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          payload: Type.Optional(JsonObject('the sample event payload')),
        },
        { additionalProperties: false, description: "a sample event; type defaults to herald.test, payload to the type's schema example or a test payload" },
      ),
    ),
    transformation: Type.Optional(Nullable(TransformationSource)),
  },
  {
    additionalProperties: false,
    examples: [{ event: { type: 'invoice.paid', payload: { amount: 250 } }, transformation: '(webhook) => { webhook.payload.cents = webhook.payload.amount * 100; return webhook; }' }],
  },
);
export const TransformationTestResult = Type.Object({
  request: Nullable(
    Type.Object({
      method: Type.String(),
      url: Type.String(),
      headers: Type.Record(Type.String(), Type.String()),
      body: Type.String({ description: 'the body as it would be signed and sent' }),
    }, { description: 'the request that would be sent (null when the transformation failed)' }),
  ),
  error: Nullable(
    Type.Object({ code: Type.String(), message: Type.String() }, { description: 'why the transformation failed, as an attempt would record it (null when it did not)' }),
  ),
});
export const Recover = Type.Object({ since: Timestamp, until: Type.Optional(Timestamp) }, { additionalProperties: false });

// --- tenants -----------------------------------------------------------------
/** A body template; see src/delivery/envelope.ts for the placeholders. */
export const Envelope = AnyJson(
  'JSON body template around the payload; string values {{payload}}, {{event.id}}, {{event.type}}, {{event.createdAt}}, {{event.timestamp}}, {{tenant.id}} are filled in',
);
/** Tenant settings with the given retry schema: `Retry` to validate requests, `RetryOut` to describe responses. */
const tenantSettings = (retry: typeof Retry | typeof RetryOut) =>
  Type.Object(
    {
      envelope: Type.Optional(Envelope),
      endpointDefaults: Type.Optional(
        Type.Object(
          {
            signature: Type.Optional(Signature),
            retry: Type.Optional(retry),
            timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 300_000 })),
            headers: Type.Optional(Headers),
          },
          { additionalProperties: false },
        ),
      ),
    },
    { additionalProperties: false },
  );
export const TenantSettings = tenantSettings(Retry);
export const Tenant = Type.Object({
  id: Type.String(),
  name: Type.String(),
  settings: tenantSettings(RetryOut),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export const TenantCreate = Type.Object(
  { id: Type.Optional(Id), name: Type.String({ minLength: 1, maxLength: 200 }), settings: Type.Optional(TenantSettings) },
  { additionalProperties: false, examples: [{ id: 'acme', name: 'Acme Inc' }] },
);
export const TenantPatch = Type.Object(
  { name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), settings: Type.Optional(TenantSettings) },
  { additionalProperties: false },
);

// --- events ------------------------------------------------------------------
export const EventPublish = Type.Object(
  {
    id: Type.Optional(Id),
    type: EventTypeName,
    payload: Type.Record(Type.String(), Type.Unknown()),
    orderingKey: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: 'deliveries with the same key reach each endpoint one at a time, in publish order',
      }),
    ),
  },
  { additionalProperties: false, examples: [{ id: 'in_1-paid', type: 'invoice.paid', payload: { invoiceId: 'in_1', amount: 4200 } }] },
);
export const EventBatch = Type.Object(
  { events: Type.Array(EventPublish, { minItems: 1, maxItems: 1000 }) },
  {
    additionalProperties: false,
    examples: [
      {
        events: [
          { id: 'in_1-paid', type: 'invoice.paid', payload: { invoiceId: 'in_1', amount: 4200 } },
          { id: 'in_2-paid', type: 'invoice.paid', payload: { invoiceId: 'in_2', amount: 990 } },
        ],
      },
    ],
  },
);
export const EventAccepted = Type.Object({
  id: Type.String(),
  type: Type.String(),
  createdAt: Type.String(),
  deliveries: Type.Integer(),
});
export const Event = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  type: Type.String(),
  payload: JsonObject('the payload as published'),
  createdAt: Type.String(),
});
/** A type filter of a list: an exact name, `prefix.*` (every type under it) or `*`, as endpoints subscribe. */
const TypeFilter = Type.Optional(
  Type.String({ minLength: 1, maxLength: 200, pattern: TYPE_PATTERN, description: 'an event type, prefix.* (every type under the prefix) or *' }),
);
export const EventListQuery = Type.Object({
  ...PageQuery.properties,
  type: TypeFilter,
  since: Type.Optional(Timestamp),
  until: Type.Optional(Timestamp),
  id: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: ID_PATTERN, description: 'only the event with this id' })),
  payloadField: Type.Optional(
    Type.String({
      maxLength: 200,
      pattern: '^[A-Za-z0-9_$-]+(\\.[A-Za-z0-9_$-]+){0,7}$',
      description: 'a payload field as a dot path (customer.id); with payloadValue, only events whose payload holds that value there. Searches the newest 5000 events per page; the cursor continues further back',
    }),
  ),
  payloadValue: Type.Optional(Type.String({ maxLength: 500, description: 'the value payloadField must hold, compared as text ("42" finds the number 42)' })),
});

// --- deliveries --------------------------------------------------------------
export const DeliveryStatus = Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]);
export const Delivery = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  eventId: Type.String(),
  eventType: Type.String(),
  endpointId: Type.String(),
  endpointUrl: Nullable(Type.String({ description: "the endpoint's URL as it is now" })),
  status: DeliveryStatus,
  attempts: Type.Integer(),
  nextAttemptAt: Nullable(Type.String()),
  lastAttemptAt: Nullable(Type.String()),
  lastStatus: Nullable(Type.Integer()),
  lastError: Nullable(Type.String()),
  lastErrorCode: Nullable(Type.String({ description: 'network error code of the last attempt (connect_refused, timeout, …); null when it got an HTTP answer' })),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export const Attempt = Type.Object({
  id: Type.String(),
  attemptNumber: Type.Integer(),
  startedAt: Type.String(),
  durationMs: Type.Integer(),
  request: Type.Object({ url: Type.String(), headers: Type.Record(Type.String(), Type.String()) }),
  response: Nullable(
    Type.Object({ status: Type.Integer(), headers: Type.Record(Type.String(), Type.String()), body: Type.String(), bodyTruncated: Type.Boolean() }),
  ),
  error: Nullable(Type.Object({ code: Type.String(), message: Type.String() })),
});
/** A delivery sent once more to another URL (POST …/deliveries/:id/replay): an attempt's request and answer, never counted as one. */
export const Replay = Type.Object({
  id: Type.String(),
  deliveryId: Type.String(),
  actor: Type.String({ description: 'who asked for it: admin, or token:<id>' }),
  startedAt: Type.String(),
  durationMs: Type.Integer(),
  request: Type.Object({ url: Type.String({ description: 'where it went (the endpoint is not changed)' }), headers: Type.Record(Type.String(), Type.String()) }),
  response: Attempt.properties.response,
  error: Attempt.properties.error,
});
export const ReplayBody = Type.Object(
  { url: Type.String({ minLength: 1, maxLength: 2048, description: 'where to send the delivery once; the same rules as an endpoint URL' }) },
  { additionalProperties: false, examples: [{ url: 'https://example.ngrok.app/webhooks' }] },
);
export const ReplayList = Type.Object({ data: Type.Array(Replay, { description: 'oldest first' }) });
/** A delivery with its attempts, oldest first (`attempts` stays the count). */
export const DeliveryWithAttempts = Type.Intersect([Delivery, Type.Object({ attemptLog: Type.Array(Attempt) })]);
const deliveryFilters = {
  status: Type.Optional(DeliveryStatus),
  endpointId: Type.Optional(Id),
  eventType: TypeFilter,
  since: Type.Optional(Timestamp),
  until: Type.Optional(Timestamp),
};
export const DeliveryListQuery = Type.Object({ ...PageQuery.properties, ...deliveryFilters });
export const DeliveryCountQuery = Type.Object(deliveryFilters);
export const DeliveryCount = Type.Object({
  count: Type.Integer({ description: 'deliveries matching, counted up to 10000' }),
  capped: Type.Boolean({ description: 'true when there are at least 10000 (count stopped there)' }),
});
/** A bulk retry: the failed deliveries matching the filters, a batch at a time. */
export const BulkRetry = Type.Object(
  {
    endpointId: Type.Optional(Id),
    eventType: TypeFilter,
    since: Type.Optional(Timestamp),
    until: Type.Optional(Timestamp),
    updatedBefore: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'only deliveries last changed at or before this time; pass the time the bulk retry began, so a delivery retried by an earlier batch is not taken again',
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'most deliveries retried by this call (oldest first)' })),
  },
  { additionalProperties: false, examples: [{ endpointId: 'ep_…', eventType: 'invoice.*', updatedBefore: '2024-05-01T12:00:00Z', limit: 100 }] },
);
export const BulkRetried = Type.Object({
  retried: Type.Integer(),
  more: Type.Boolean({ description: 'the batch was full: call again (with the same updatedBefore) for the rest' }),
});

// --- audit, tokens -----------------------------------------------------------
export const AuditEntry = Type.Object({
  id: Type.String(),
  tenantId: Nullable(Type.String()),
  actor: Type.String(),
  action: Type.String(),
  targetType: Nullable(Type.String()),
  targetId: Nullable(Type.String()),
  details: JsonObject('what changed; depends on the action'),
  createdAt: Type.String(),
});
export const AuditQuery = Type.Object({ ...PageQuery.properties, action: Type.Optional(Type.String({ maxLength: 100 })) });
export const TokenRole = Type.Union([Type.Literal('manage'), Type.Literal('read')], {
  description: 'manage: read, change and publish (default); read: GET requests only',
});
export const TokenCreate = Type.Object(
  { name: Type.Optional(Type.String({ maxLength: 200 })), role: Type.Optional(TokenRole) },
  { additionalProperties: false },
);
/** A token as listed: never its value or hash. */
export const TokenInfo = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  name: Type.String(),
  role: TokenRole,
  createdAt: Type.String(),
  /** When it was revoked; null while it works. */
  revokedAt: Type.Union([Type.String(), Type.Null()]),
});
export const TokenCreated = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  name: Type.String(),
  role: TokenRole,
  token: Type.String(),
  createdAt: Type.String(),
});

export const page = <T extends Parameters<typeof Type.Array>[0]>(item: T) =>
  Type.Object({ data: Type.Array(item), nextCursor: Nullable(Type.String()) });

export type EndpointCreateBody = Static<typeof EndpointCreate>;
export type EndpointPatchBody = Static<typeof EndpointPatch>;
