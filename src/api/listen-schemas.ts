import { Type, type Static } from 'typebox';
import { EventTypePattern, Id, Nullable } from './schemas.js';

/**
 * Schemas of the `herald listen` routes (the CLI's session, stream and
 * reports, and the worker-facing relay).
 */

export const ListenSessionParams = Type.Object({ tenantId: Id, sessionId: Id });

export const ListenStart = Type.Object(
  {
    forwardTo: Type.String({ minLength: 1, maxLength: 2048, description: 'the local URL the CLI forwards to (shown; Herald itself never contacts it)' }),
    eventTypes: Type.Optional(Nullable(Type.Array(EventTypePattern, { maxItems: 200, description: 'only these event types (patterns); null or absent = all' }))),
  },
  { additionalProperties: false, examples: [{ forwardTo: 'http://localhost:3000/webhooks', eventTypes: ['campaign.*', 'offer.removed'] }] },
);
export type ListenStartBody = Static<typeof ListenStart>;

export const ListenSession = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  endpointId: Type.String({ description: 'the temporary endpoint: its deliveries and attempts show as any endpoint\'s' }),
  forwardTo: Type.String(),
  eventTypes: Nullable(Type.Array(Type.String())),
  secret: Type.String({ description: 'the endpoint\'s signing secret (Standard Webhooks): configure the local receiver with it' }),
  resumed: Type.Boolean({ description: 'true when an open session of the same token, forward-to URL and event types was taken up again (same endpoint, same secret)' }),
  graceSeconds: Type.Integer({ description: 'how long the session outlives its connection' }),
  createdAt: Type.String(),
});

const Headers = Type.Record(Type.String({ maxLength: 256 }), Type.String({ maxLength: 8192 }), { maxProperties: 200 });

export const ListenReport = Type.Object(
  {
    relayId: Type.String({ minLength: 1, maxLength: 64 }),
    durationMs: Type.Integer({ minimum: 0 }),
    status: Type.Optional(Type.Integer({ minimum: 200, maximum: 599, description: 'the local receiver\'s status' })),
    headers: Type.Optional(Headers),
    body: Type.Optional(Type.String({ maxLength: 1024 * 1024 })),
    error: Type.Optional(
      Type.Object({
        code: Type.String({ maxLength: 64, description: 'connect_refused, dns, timeout, reset, ... (as attempts name them)' }),
        message: Type.String({ maxLength: 2000 }),
      }),
    ),
  },
  { additionalProperties: false, description: 'the local receiver\'s answer (status, headers, body) or the error that stopped it (error)' },
);
export type ListenReportBody = Static<typeof ListenReport>;

export const RelayParams = Type.Object({ sessionId: Id, mac: Type.String({ minLength: 1, maxLength: 64 }) });
