// Generated from /openapi.json by packages/client/codegen/openapi-types.ts; do not edit.
// Regenerate: UPDATE_GENERATED=1 npx vitest run packages/client/test/generated.test.ts

/** Every route: its path parameters, query, request body and success response. */
export interface Routes {
  "GET /v1/event-types": {
    params: never;
    query: never;
    body: never;
    /** 200 */
    response: {
      data: Array<{
        name: string;
        description: string | null;
        /** JSON Schema that payloads of this type must match */
        schema: Record<string, unknown> | null;
        /** body template for events of this type (null: the tenant envelope or the bare payload) */
        envelope: unknown;
        createdAt: string;
        updatedAt: string;
      }>;
    };
  };
  "POST /v1/event-types": {
    params: never;
    query: never;
    body: {
      name: string;
      description?: string;
      /** JSON Schema (draft 2020-12 subset ajv supports) that payloads must match */
      schema?: {
        [key: string]: unknown;
      };
      /** body template for events of this type; overrides the tenant envelope */
      envelope?: unknown;
    };
    /** 201 */
    response: {
      name: string;
      description: string | null;
      /** JSON Schema that payloads of this type must match */
      schema: Record<string, unknown> | null;
      /** body template for events of this type (null: the tenant envelope or the bare payload) */
      envelope: unknown;
      createdAt: string;
      updatedAt: string;
    };
  };
  "GET /v1/event-types/{name}": {
    params: { name: string };
    query: never;
    body: never;
    /** 200 */
    response: {
      name: string;
      description: string | null;
      /** JSON Schema that payloads of this type must match */
      schema: Record<string, unknown> | null;
      /** body template for events of this type (null: the tenant envelope or the bare payload) */
      envelope: unknown;
      createdAt: string;
      updatedAt: string;
    };
  };
  "PATCH /v1/event-types/{name}": {
    params: { name: string };
    query: never;
    body: {
      description?: string;
      schema?: {
        [key: string]: unknown;
      } | null;
      envelope?: unknown;
    };
    /** 200 */
    response: {
      name: string;
      description: string | null;
      /** JSON Schema that payloads of this type must match */
      schema: Record<string, unknown> | null;
      /** body template for events of this type (null: the tenant envelope or the bare payload) */
      envelope: unknown;
      createdAt: string;
      updatedAt: string;
    };
  };
  "GET /v1/operator/overview": {
    params: never;
    query: never;
    body: never;
    /** 200 */
    response: {
      generatedAt: string;
      /** all failing endpoints, listed or not */
      endpointsFailing: number;
      circuitsOpen: number;
      oldestDue: {
        deliveryId: string;
        tenantId: string;
        endpointId: string;
        eventId: string;
        /** false while the delivery waits in a batch no worker has written out yet: its record does not exist yet, its event does */
        writtenOut: boolean;
        dueAt: string;
        /** seconds since it became due */
        ageSeconds: number;
      } | null;
      /** at most 100, most recent attempt first */
      failing: Array<{
        tenantId: string;
        tenantName: string;
        endpointId: string;
        url: string;
        disabled: boolean;
        /** failed attempts since the last success */
        consecutiveFailures: number;
        /** when the current run of failures began */
        failingSince: string | null;
        /** until when the circuit is open (null: closed) */
        circuitOpenUntil: string | null;
        lastAttemptAt: string | null;
        lastStatus: number | null;
        lastErrorCode: string | null;
        /** the message of a network failure (null for an HTTP status) */
        lastError: string | null;
      }>;
      failingTruncated: boolean;
      /** attempts per minute over the last 60 minutes, oldest first */
      perMinute: Array<{
        start: string;
        attempts: number;
        /** attempts answered 2xx */
        succeeded: number;
        /** other statuses and network errors */
        failed: number;
      }>;
      alerts: {
        /** whether HERALD_ALERT_WEBHOOK_URL is set */
        configured: boolean;
        /** the alert URL with its path hidden (incoming-webhook paths are secrets) */
        target: string | null;
        /** failed attempts in a row that make an endpoint failing (an open circuit always does) */
        afterFailures: number;
        /** how often states are compared; at most one message per interval per worker */
        intervalSeconds: number;
        /** alerts waiting to be posted */
        pending: number;
        /** the latest 10, newest first */
        recent: Array<{
          id: string;
          kind: ("failing" | "disabled" | "recovered");
          tenantId: string;
          tenantName: string;
          endpointId: string;
          url: string;
          createdAt: string;
          /** dropped: given up after repeated failed posts */
          status: ("pending" | "sent" | "dropped");
          /** posts of the message that carried it */
          attempts: number;
          sentAt: string | null;
          /** why the last post failed */
          lastError: string | null;
        }>;
      };
    };
  };
  "GET /v1/session": {
    params: never;
    query: never;
    body: never;
    /** 200 */
    response: {
      kind: ("admin" | "tenant");
      tenantId: string | null;
      role: ("manage" | "read");
      portal: {
        platformName: string | null;
        color: string | null;
        expiresAt: string;
      } | null;
    };
  };
  "GET /v1/tenants": {
    params: never;
    query: { limit?: number; cursor?: string };
    body: never;
    /** 200 */
    response: {
      data: Array<{
        id: string;
        name: string;
        settings: {
          /** JSON body template around the payload; string values {{payload}}, {{event.id}}, {{event.type}}, {{event.createdAt}}, {{event.timestamp}}, {{tenant.id}} are filled in */
          envelope?: unknown;
          endpointDefaults?: {
            signature?: ({
              scheme: "standard";
            } | {
              /** Standard Webhooks v1a: ed25519 signatures, a whsk_ signing key, receivers verify with its whpk_ public key */
              scheme: "ed25519";
            } | {
              scheme: "hmac-sha256";
              header: string;
              encoding?: ("hex" | "base64");
            });
            retry?: ({
              schedule: Array<number>;
              jitter?: number;
            } | {
              backoff: "exponential";
              initialSeconds: number;
              maxSeconds: number;
              maxRetries: number;
              factor?: number;
              jitter?: number;
            });
            timeoutMs?: number;
            headers?: {
              [key: string]: string;
            };
          };
        };
        createdAt: string;
        updatedAt: string;
      }>;
      nextCursor: string | null;
    };
  };
  "POST /v1/tenants": {
    params: never;
    query: never;
    body: {
      id?: string;
      name: string;
      settings?: {
        /** JSON body template around the payload; string values {{payload}}, {{event.id}}, {{event.type}}, {{event.createdAt}}, {{event.timestamp}}, {{tenant.id}} are filled in */
        envelope?: unknown;
        endpointDefaults?: {
          signature?: ({
            scheme: "standard";
          } | {
            /** Standard Webhooks v1a: ed25519 signatures, a whsk_ signing key, receivers verify with its whpk_ public key */
            scheme: "ed25519";
          } | {
            scheme: "hmac-sha256";
            header: string;
            encoding?: ("hex" | "base64");
          });
          retry?: Record<string, never>;
          timeoutMs?: number;
          headers?: {
            [key: string]: string;
          };
        };
      };
    };
    /** 201 */
    response: {
      id: string;
      name: string;
      settings: {
        /** JSON body template around the payload; string values {{payload}}, {{event.id}}, {{event.type}}, {{event.createdAt}}, {{event.timestamp}}, {{tenant.id}} are filled in */
        envelope?: unknown;
        endpointDefaults?: {
          signature?: ({
            scheme: "standard";
          } | {
            /** Standard Webhooks v1a: ed25519 signatures, a whsk_ signing key, receivers verify with its whpk_ public key */
            scheme: "ed25519";
          } | {
            scheme: "hmac-sha256";
            header: string;
            encoding?: ("hex" | "base64");
          });
          retry?: ({
            schedule: Array<number>;
            jitter?: number;
          } | {
            backoff: "exponential";
            initialSeconds: number;
            maxSeconds: number;
            maxRetries: number;
            factor?: number;
            jitter?: number;
          });
          timeoutMs?: number;
          headers?: {
            [key: string]: string;
          };
        };
      };
      createdAt: string;
      updatedAt: string;
    };
  };
  "GET /v1/tenants/{tenantId}": {
    params: { tenantId: string };
    query: never;
    body: never;
    /** 200 */
    response: {
      id: string;
      name: string;
      settings: {
        /** JSON body template around the payload; string values {{payload}}, {{event.id}}, {{event.type}}, {{event.createdAt}}, {{event.timestamp}}, {{tenant.id}} are filled in */
        envelope?: unknown;
        endpointDefaults?: {
          signature?: ({
            scheme: "standard";
          } | {
            /** Standard Webhooks v1a: ed25519 signatures, a whsk_ signing key, receivers verify with its whpk_ public key */
            scheme: "ed25519";
          } | {
            scheme: "hmac-sha256";
            header: string;
            encoding?: ("hex" | "base64");
          });
          retry?: ({
            schedule: Array<number>;
            jitter?: number;
          } | {
            backoff: "exponential";
            initialSeconds: number;
            maxSeconds: number;
            maxRetries: number;
            factor?: number;
            jitter?: number;
          });
          timeoutMs?: number;
          headers?: {
            [key: string]: string;
          };
        };
      };
      createdAt: string;
      updatedAt: string;
    };
  };
  "PATCH /v1/tenants/{tenantId}": {
    params: { tenantId: string };
    query: never;
    body: {
      name?: string;
      settings?: {
        /** JSON body template around the payload; string values {{payload}}, {{event.id}}, {{event.type}}, {{event.createdAt}}, {{event.timestamp}}, {{tenant.id}} are filled in */
        envelope?: unknown;
        endpointDefaults?: {
          signature?: ({
            scheme: "standard";
          } | {
            /** Standard Webhooks v1a: ed25519 signatures, a whsk_ signing key, receivers verify with its whpk_ public key */
            scheme: "ed25519";
          } | {
            scheme: "hmac-sha256";
            header: string;
            encoding?: ("hex" | "base64");
          });
          retry?: Record<string, never>;
          timeoutMs?: number;
          headers?: {
            [key: string]: string;
          };
        };
      };
    };
    /** 200 */
    response: {
      id: string;
      name: string;
      settings: {
        /** JSON body template around the payload; string values {{payload}}, {{event.id}}, {{event.type}}, {{event.createdAt}}, {{event.timestamp}}, {{tenant.id}} are filled in */
        envelope?: unknown;
        endpointDefaults?: {
          signature?: ({
            scheme: "standard";
          } | {
            /** Standard Webhooks v1a: ed25519 signatures, a whsk_ signing key, receivers verify with its whpk_ public key */
            scheme: "ed25519";
          } | {
            scheme: "hmac-sha256";
            header: string;
            encoding?: ("hex" | "base64");
          });
          retry?: ({
            schedule: Array<number>;
            jitter?: number;
          } | {
            backoff: "exponential";
            initialSeconds: number;
            maxSeconds: number;
            maxRetries: number;
            factor?: number;
            jitter?: number;
          });
          timeoutMs?: number;
          headers?: {
            [key: string]: string;
          };
        };
      };
      createdAt: string;
      updatedAt: string;
    };
  };
  "DELETE /v1/tenants/{tenantId}": {
    params: { tenantId: string };
    query: never;
    body: never;
    /** 200 */
    response: void;
  };
  "GET /v1/tenants/{tenantId}/audit-log": {
    params: { tenantId: string };
    query: { limit?: number; cursor?: string; action?: string };
    body: never;
    /** 200 */
    response: {
      data: Array<{
        id: string;
        tenantId: string | null;
        actor: string;
        action: string;
        targetType: string | null;
        targetId: string | null;
        /** what changed; depends on the action */
        details: Record<string, unknown>;
        createdAt: string;
      }>;
      nextCursor: string | null;
    };
  };
  "GET /v1/tenants/{tenantId}/deliveries": {
    params: { tenantId: string };
    query: { limit?: number; cursor?: string; status?: ("pending" | "succeeded" | "failed"); endpointId?: string; eventType?: string; since?: string; until?: string };
    body: never;
    /** 200 */
    response: {
      data: Array<{
        id: string;
        tenantId: string;
        eventId: string;
        eventType: string;
        endpointId: string;
        /** the endpoint's URL as it is now */
        endpointUrl: string | null;
        status: ("pending" | "succeeded" | "failed");
        attempts: number;
        nextAttemptAt: string | null;
        lastAttemptAt: string | null;
        lastStatus: number | null;
        lastError: string | null;
        /** network error code of the last attempt (connect_refused, timeout, …); null when it got an HTTP answer */
        lastErrorCode: string | null;
        createdAt: string;
        updatedAt: string;
      }>;
      nextCursor: string | null;
    };
  };
  "GET /v1/tenants/{tenantId}/deliveries/count": {
    params: { tenantId: string };
    query: { status?: ("pending" | "succeeded" | "failed"); endpointId?: string; eventType?: string; since?: string; until?: string };
    body: never;
    /** 200 */
    response: {
      /** deliveries matching, counted up to 10000 */
      count: number;
      /** true when there are at least 10000 (count stopped there) */
      capped: boolean;
    };
  };
  "POST /v1/tenants/{tenantId}/deliveries/retry": {
    params: { tenantId: string };
    query: never;
    body: {
      endpointId?: string;
      /** an event type, prefix.* (every type under the prefix) or * */
      eventType?: string;
      since?: string;
      until?: string;
      /** only deliveries last changed at or before this time; pass the time the bulk retry began, so a delivery retried by an earlier batch is not taken again */
      updatedBefore?: string;
      /** most deliveries retried by this call (oldest first) */
      limit?: number;
    };
    /** 202 */
    response: {
      retried: number;
      /** the batch was full: call again (with the same updatedBefore) for the rest */
      more: boolean;
    };
  };
  "GET /v1/tenants/{tenantId}/deliveries/{deliveryId}": {
    params: { tenantId: string; deliveryId: string };
    query: never;
    body: never;
    /** 200 */
    response: ({
      id: string;
      tenantId: string;
      eventId: string;
      eventType: string;
      endpointId: string;
      /** the endpoint's URL as it is now */
      endpointUrl: string | null;
      status: ("pending" | "succeeded" | "failed");
      attempts: number;
      nextAttemptAt: string | null;
      lastAttemptAt: string | null;
      lastStatus: number | null;
      lastError: string | null;
      /** network error code of the last attempt (connect_refused, timeout, …); null when it got an HTTP answer */
      lastErrorCode: string | null;
      createdAt: string;
      updatedAt: string;
    } & {
      attemptLog: Array<{
        id: string;
        attemptNumber: number;
        startedAt: string;
        durationMs: number;
        request: {
          url: string;
          headers: {
            [key: string]: string;
          };
        };
        response: {
          status: number;
          headers: {
            [key: string]: string;
          };
          body: string;
          bodyTruncated: boolean;
        } | null;
        error: {
          code: string;
          message: string;
        } | null;
      }>;
    });
  };
  "POST /v1/tenants/{tenantId}/deliveries/{deliveryId}/replay": {
    params: { tenantId: string; deliveryId: string };
    query: never;
    body: {
      /** where to send the delivery once; the same rules as an endpoint URL */
      url: string;
    };
    /** 201 */
    response: {
      id: string;
      deliveryId: string;
      /** who asked for it: admin, or token:<id> */
      actor: string;
      startedAt: string;
      durationMs: number;
      request: {
        /** where it went (the endpoint is not changed) */
        url: string;
        headers: {
          [key: string]: string;
        };
      };
      response: {
        status: number;
        headers: {
          [key: string]: string;
        };
        body: string;
        bodyTruncated: boolean;
      } | null;
      error: {
        code: string;
        message: string;
      } | null;
    };
  };
  "GET /v1/tenants/{tenantId}/deliveries/{deliveryId}/replays": {
    params: { tenantId: string; deliveryId: string };
    query: never;
    body: never;
    /** 200 */
    response: {
      /** oldest first */
      data: Array<{
        id: string;
        deliveryId: string;
        /** who asked for it: admin, or token:<id> */
        actor: string;
        startedAt: string;
        durationMs: number;
        request: {
          /** where it went (the endpoint is not changed) */
          url: string;
          headers: {
            [key: string]: string;
          };
        };
        response: {
          status: number;
          headers: {
            [key: string]: string;
          };
          body: string;
          bodyTruncated: boolean;
        } | null;
        error: {
          code: string;
          message: string;
        } | null;
      }>;
    };
  };
  "POST /v1/tenants/{tenantId}/deliveries/{deliveryId}/retry": {
    params: { tenantId: string; deliveryId: string };
    query: never;
    body: never;
    /** 202 */
    response: {
      id: string;
      tenantId: string;
      eventId: string;
      eventType: string;
      endpointId: string;
      /** the endpoint's URL as it is now */
      endpointUrl: string | null;
      status: ("pending" | "succeeded" | "failed");
      attempts: number;
      nextAttemptAt: string | null;
      lastAttemptAt: string | null;
      lastStatus: number | null;
      lastError: string | null;
      /** network error code of the last attempt (connect_refused, timeout, …); null when it got an HTTP answer */
      lastErrorCode: string | null;
      createdAt: string;
      updatedAt: string;
    };
  };
  "GET /v1/tenants/{tenantId}/endpoints": {
    params: { tenantId: string };
    query: { limit?: number; cursor?: string };
    body: never;
    /** 200 */
    response: {
      data: Array<{
        id: string;
        tenantId: string;
        /** the HTTP URL; for a broker endpoint, the broker URL with its password masked */
        url: string;
        destination: ({
          type: "rabbitmq";
          url: string;
          exchange: string;
          routingKey: string;
        } | {
          type: "nats";
          url: string;
          subject: string;
        }) | null;
        description: string;
        eventTypes: Array<string> | null;
        disabled: boolean;
        disabledReason: string | null;
        headers: {
          [key: string]: string;
        };
        signature: ({
          scheme: "standard";
        } | {
          /** Standard Webhooks v1a: ed25519 signatures, a whsk_ signing key, receivers verify with its whpk_ public key */
          scheme: "ed25519";
        } | {
          scheme: "hmac-sha256";
          header: string;
          encoding?: ("hex" | "base64");
        });
        /** ed25519 scheme: the whpk_ public key receivers verify with (null for the HMAC schemes) */
        publicKey: string | null;
        retry: ({
          schedule: Array<number>;
          jitter?: number;
        } | {
          backoff: "exponential";
          initialSeconds: number;
          maxSeconds: number;
          maxRetries: number;
          factor?: number;
          jitter?: number;
        });
        timeoutMs: number;
        ordered: boolean;
        rateLimitPerSecond: number | null;
        /** until when a previous secret, rotated out, still signs beside the current one (null: none does) */
        previousSecretExpiresAt: string | null;
        /** payload filter events must match to be delivered here (null: none) */
        filter: Record<string, unknown> | null;
        /** send the W3C traceparent of the attempt span with each request (only while Herald exports OpenTelemetry traces) */
        sendTraceContext: boolean;
        /** JavaScript (webhook) => webhook run before each request is signed (null: none) */
        transformation: string | null;
        createdAt: string;
        updatedAt: string;
      }>;
      nextCursor: string | null;
    };
  };
  "POST /v1/tenants/{tenantId}/endpoints": {
    params: { tenantId: string };
    query: never;
    body: {
      /** the HTTP URL to POST to (or give destination) */
      url?: string;
      /** deliver to a message broker instead of an HTTP url */
      destination?: {
        /** rabbitmq | nats */
        type: string;
        /** amqp(s)://user:pass@host:5672/vhost or nats://[user:pass@]host:4222 (tls://); stored encrypted, shown with the password masked */
        url: string;
        /** rabbitmq: the exchange to publish to ("" is the default exchange) */
        exchange?: string;
        /** rabbitmq: the routing key (Default: "") */
        routingKey?: string;
        /** nats: the subject, which a JetStream stream must capture */
        subject?: string;
      };
      description?: string;
      eventTypes?: Array<string> | null;
      disabled?: boolean;
      headers?: {
        [key: string]: string;
      };
      signature?: ({
        scheme: "standard";
      } | {
        /** Standard Webhooks v1a: ed25519 signatures, a whsk_ signing key, receivers verify with its whpk_ public key */
        scheme: "ed25519";
      } | {
        scheme: "hmac-sha256";
        header: string;
        encoding?: ("hex" | "base64");
      });
      retry?: Record<string, never>;
      timeoutMs?: number;
      /** deliver every event to this endpoint one at a time, in publish order */
      ordered?: boolean;
      /** most deliveries per second to this endpoint (null = no limit) */
      rateLimitPerSecond?: number | null;
      /** send the W3C traceparent (and tracestate) of the attempt span with each request, while Herald exports OpenTelemetry traces (default false) */
      sendTraceContext?: boolean;
      /** matched against the event {id, type, createdAt, payload}: $eq $neq $gt $gte $lt $lte $in $nin $startsWith $endsWith $exists $and $or $not, a plain value meaning $eq (null removes it) */
      filter?: Record<string, unknown> | null;
      /** JavaScript function (webhook) => webhook, given {method, url, eventId, eventType, headers, payload}; it may change payload, headers, eventType and the path/query of url; run in a sandbox before signing (null removes it) */
      transformation?: string | null;
      secret?: string;
    };
    /** 201 */
    response: ({
      id: string;
      tenantId: string;
      /** the HTTP URL; for a broker endpoint, the broker URL with its password masked */
      url: string;
      destination: ({
        type: "rabbitmq";
        url: string;
        exchange: string;
        routingKey: string;
      } | {
        type: "nats";
        url: string;
        subject: string;
      }) | null;
      description: string;
      eventTypes: Array<string> | null;
      disabled: boolean;
      disabledReason: string | null;
      headers: {
        [key: string]: string;
      };
      signature: ({
        scheme: "standard";
      } | {
        /** Standard Webhooks v1a: ed25519 signatures, a whsk_ signing key, receivers verify with its whpk_ public key */
        scheme: "ed25519";
      } | {
        scheme: "hmac-sha256";
        header: string;
        encoding?: ("hex" | "base64");
      });
      /** ed25519 scheme: the whpk_ public key receivers verify with (null for the HMAC schemes) */
      publicKey: string | null;
      retry: ({
        schedule: Array<number>;
        jitter?: number;
      } | {
        backoff: "exponential";
        initialSeconds: number;
        maxSeconds: number;
        maxRetries: number;
        factor?: number;
        jitter?: number;
      });
      timeoutMs: number;
      ordered: boolean;
      rateLimitPerSecond: number | null;
      /** until when a previous secret, rotated out, still signs beside the current one (null: none does) */
      previousSecretExpiresAt: string | null;
      /** payload filter events must match to be delivered here (null: none) */
      filter: Record<string, unknown> | null;
      /** send the W3C traceparent of the attempt span with each request (only while Herald exports OpenTelemetry traces) */
      sendTraceContext: boolean;
      /** JavaScript (webhook) => webhook run before each request is signed (null: none) */
      transformation: string | null;
      createdAt: string;
      updatedAt: string;
    } & {
      secret: string;
    });
  };
  "GET /v1/tenants/{tenantId}/endpoints/{endpointId}": {
    params: { tenantId: string; endpointId: string };
    query: never;
    body: never;
    /** 200 */
    response: {
      id: string;
      tenantId: string;
      /** the HTTP URL; for a broker endpoint, the broker URL with its password masked */
      url: string;
      destination: ({
        type: "rabbitmq";
        url: string;
        exchange: string;
        routingKey: string;
      } | {
        type: "nats";
        url: string;
        subject: string;
      }) | null;
      description: string;
      eventTypes: Array<string> | null;
      disabled: boolean;
      disabledReason: string | null;
      headers: {
        [key: string]: string;
      };
      signature: ({
        scheme: "standard";
      } | {
        /** Standard Webhooks v1a: ed25519 signatures, a whsk_ signing key, receivers verify with its whpk_ public key */
        scheme: "ed25519";
      } | {
        scheme: "hmac-sha256";
        header: string;
        encoding?: ("hex" | "base64");
      });
      /** ed25519 scheme: the whpk_ public key receivers verify with (null for the HMAC schemes) */
      publicKey: string | null;
      retry: ({
        schedule: Array<number>;
        jitter?: number;
      } | {
        backoff: "exponential";
        initialSeconds: number;
        maxSeconds: number;
        maxRetries: number;
        factor?: number;
        jitter?: number;
      });
      timeoutMs: number;
      ordered: boolean;
      rateLimitPerSecond: number | null;
      /** until when a previous secret, rotated out, still signs beside the current one (null: none does) */
      previousSecretExpiresAt: string | null;
      /** payload filter events must match to be delivered here (null: none) */
      filter: Record<string, unknown> | null;
      /** send the W3C traceparent of the attempt span with each request (only while Herald exports OpenTelemetry traces) */
      sendTraceContext: boolean;
      /** JavaScript (webhook) => webhook run before each request is signed (null: none) */
      transformation: string | null;
      createdAt: string;
      updatedAt: string;
    };
  };
  "PATCH /v1/tenants/{tenantId}/endpoints/{endpointId}": {
    params: { tenantId: string; endpointId: string };
    query: never;
    body: {
      /** the HTTP URL to POST to (or give destination) */
      url?: string;
      /** deliver to a message broker instead of an HTTP url */
      destination?: {
        /** rabbitmq | nats */
        type: string;
        /** amqp(s)://user:pass@host:5672/vhost or nats://[user:pass@]host:4222 (tls://); stored encrypted, shown with the password masked */
        url: string;
        /** rabbitmq: the exchange to publish to ("" is the default exchange) */
        exchange?: string;
        /** rabbitmq: the routing key (Default: "") */
        routingKey?: string;
        /** nats: the subject, which a JetStream stream must capture */
        subject?: string;
      };
      description?: string;
      eventTypes?: Array<string> | null;
      disabled?: boolean;
      headers?: {
        [key: string]: string;
      };
      signature?: ({
        scheme: "standard";
      } | {
        /** Standard Webhooks v1a: ed25519 signatures, a whsk_ signing key, receivers verify with its whpk_ public key */
        scheme: "ed25519";
      } | {
        scheme: "hmac-sha256";
        header: string;
        encoding?: ("hex" | "base64");
      });
      retry?: Record<string, never>;
      timeoutMs?: number;
      /** deliver every event to this endpoint one at a time, in publish order */
      ordered?: boolean;
      /** most deliveries per second to this endpoint (null = no limit) */
      rateLimitPerSecond?: number | null;
      /** send the W3C traceparent (and tracestate) of the attempt span with each request, while Herald exports OpenTelemetry traces (default false) */
      sendTraceContext?: boolean;
      /** matched against the event {id, type, createdAt, payload}: $eq $neq $gt $gte $lt $lte $in $nin $startsWith $endsWith $exists $and $or $not, a plain value meaning $eq (null removes it) */
      filter?: Record<string, unknown> | null;
      /** JavaScript function (webhook) => webhook, given {method, url, eventId, eventType, headers, payload}; it may change payload, headers, eventType and the path/query of url; run in a sandbox before signing (null removes it) */
      transformation?: string | null;
    };
    /** 200 */
    response: {
      id: string;
      tenantId: string;
      /** the HTTP URL; for a broker endpoint, the broker URL with its password masked */
      url: string;
      destination: ({
        type: "rabbitmq";
        url: string;
        exchange: string;
        routingKey: string;
      } | {
        type: "nats";
        url: string;
        subject: string;
      }) | null;
      description: string;
      eventTypes: Array<string> | null;
      disabled: boolean;
      disabledReason: string | null;
      headers: {
        [key: string]: string;
      };
      signature: ({
        scheme: "standard";
      } | {
        /** Standard Webhooks v1a: ed25519 signatures, a whsk_ signing key, receivers verify with its whpk_ public key */
        scheme: "ed25519";
      } | {
        scheme: "hmac-sha256";
        header: string;
        encoding?: ("hex" | "base64");
      });
      /** ed25519 scheme: the whpk_ public key receivers verify with (null for the HMAC schemes) */
      publicKey: string | null;
      retry: ({
        schedule: Array<number>;
        jitter?: number;
      } | {
        backoff: "exponential";
        initialSeconds: number;
        maxSeconds: number;
        maxRetries: number;
        factor?: number;
        jitter?: number;
      });
      timeoutMs: number;
      ordered: boolean;
      rateLimitPerSecond: number | null;
      /** until when a previous secret, rotated out, still signs beside the current one (null: none does) */
      previousSecretExpiresAt: string | null;
      /** payload filter events must match to be delivered here (null: none) */
      filter: Record<string, unknown> | null;
      /** send the W3C traceparent of the attempt span with each request (only while Herald exports OpenTelemetry traces) */
      sendTraceContext: boolean;
      /** JavaScript (webhook) => webhook run before each request is signed (null: none) */
      transformation: string | null;
      createdAt: string;
      updatedAt: string;
    };
  };
  "DELETE /v1/tenants/{tenantId}/endpoints/{endpointId}": {
    params: { tenantId: string; endpointId: string };
    query: never;
    body: never;
    /** 200 */
    response: void;
  };
  "POST /v1/tenants/{tenantId}/endpoints/{endpointId}/filter/test": {
    params: { tenantId: string; endpointId: string };
    query: never;
    body: {
      /** a sample event; id, type and createdAt default to evt_sample, herald.test and now */
      event: {
        id?: string;
        type?: string;
        createdAt?: string;
        /** the sample event payload */
        payload?: Record<string, unknown>;
      };
      /** a filter to try instead of the endpoint's saved one (e.g. before saving it) */
      filter?: Record<string, unknown> | null;
    };
    /** 200 */
    response: {
      /** whether this event would be delivered to the endpoint (its event types aside) */
      matches: boolean;
      /** the condition that decided it */
      reason: string;
    };
  };
  "POST /v1/tenants/{tenantId}/endpoints/{endpointId}/recover": {
    params: { tenantId: string; endpointId: string };
    query: never;
    body: {
      since: string;
      until?: string;
    };
    /** 202 */
    response: {
      recovered: number;
    };
  };
  "GET /v1/tenants/{tenantId}/endpoints/{endpointId}/secret": {
    params: { tenantId: string; endpointId: string };
    query: never;
    body: never;
    /** 200 */
    response: {
      secret: string;
      /** ed25519 scheme: the whpk_ public key of this secret (null for the HMAC schemes) */
      publicKey: string | null;
    };
  };
  "POST /v1/tenants/{tenantId}/endpoints/{endpointId}/secret/rotate": {
    params: { tenantId: string; endpointId: string };
    query: never;
    body: {
      secret?: string;
      graceSeconds?: number;
    };
    /** 200 */
    response: {
      secret: string;
      /** ed25519 scheme: the whpk_ public key of this secret (null for the HMAC schemes) */
      publicKey: string | null;
    };
  };
  "GET /v1/tenants/{tenantId}/endpoints/{endpointId}/stats": {
    params: { tenantId: string; endpointId: string };
    query: { since?: string; until?: string; bucket?: ("1m" | "5m" | "15m" | "1h" | "6h" | "1d") };
    body: never;
    /** 200 */
    response: {
      since: string;
      until: string;
      bucket: string;
      endpointId: string;
      totals: {
        succeeded: number;
        failed: number;
        pending: number;
        attempts: number;
        attemptsSucceeded: number;
        attemptsFailed: number;
        p50Ms: number | null;
        p95Ms: number | null;
        p99Ms: number | null;
        successRate: number | null;
      };
      series: Array<{
        start: string;
        succeeded: number;
        failed: number;
        pending: number;
        attempts: number;
        attemptsSucceeded: number;
        attemptsFailed: number;
        p50Ms: number | null;
        p95Ms: number | null;
        p99Ms: number | null;
      }>;
      lastAttempt: {
        at: string;
        status: number | null;
        errorCode: string | null;
        succeeded: boolean;
      } | null;
    };
  };
  "POST /v1/tenants/{tenantId}/endpoints/{endpointId}/test": {
    params: { tenantId: string; endpointId: string };
    query: never;
    body: {
      eventType?: string;
      payload?: {
        [key: string]: unknown;
      };
    };
    /** 202 */
    response: {
      eventId: string;
      deliveryId: string;
      eventType: string;
    };
  };
  "POST /v1/tenants/{tenantId}/endpoints/{endpointId}/transformation/test": {
    params: { tenantId: string; endpointId: string };
    query: never;
    body: {
      /** a sample event; type defaults to herald.test, payload to the type's schema example or a test payload */
      event?: {
        type?: string;
        /** the sample event payload */
        payload?: Record<string, unknown>;
      };
      /** JavaScript function (webhook) => webhook, given {method, url, eventId, eventType, headers, payload}; it may change payload, headers, eventType and the path/query of url; run in a sandbox before signing (null removes it) */
      transformation?: string | null;
    };
    /** 200 */
    response: {
      /** the request that would be sent (null when the transformation failed) */
      request: {
        method: string;
        url: string;
        headers: {
          [key: string]: string;
        };
        /** the body as it would be signed and sent */
        body: string;
      } | null;
      /** why the transformation failed, as an attempt would record it (null when it did not) */
      error: {
        code: string;
        message: string;
      } | null;
    };
  };
  "GET /v1/tenants/{tenantId}/events": {
    params: { tenantId: string };
    query: { limit?: number; cursor?: string; type?: string; since?: string; until?: string; id?: string; payloadField?: string; payloadValue?: string };
    body: never;
    /** 200 */
    response: {
      data: Array<{
        id: string;
        tenantId: string;
        type: string;
        /** the payload as published */
        payload: Record<string, unknown>;
        createdAt: string;
      }>;
      nextCursor: string | null;
    };
  };
  "POST /v1/tenants/{tenantId}/events": {
    params: { tenantId: string };
    query: never;
    body: {
      id?: string;
      type: string;
      payload: {
        [key: string]: unknown;
      };
      /** deliveries with the same key reach each endpoint one at a time, in publish order */
      orderingKey?: string;
    };
    /** 202 */
    response: {
      id: string;
      type: string;
      createdAt: string;
      deliveries: number;
    };
  };
  "POST /v1/tenants/{tenantId}/events/batch": {
    params: { tenantId: string };
    query: never;
    body: {
      events: Array<{
        id?: string;
        type: string;
        payload: {
          [key: string]: unknown;
        };
        /** deliveries with the same key reach each endpoint one at a time, in publish order */
        orderingKey?: string;
      }>;
    };
    /** 202 */
    response: {
      data: Array<({
        id: string;
        type: string;
        createdAt: string;
        deliveries: number;
      } & {
        replayed: boolean;
      })>;
    };
  };
  "GET /v1/tenants/{tenantId}/events/{eventId}": {
    params: { tenantId: string; eventId: string };
    query: never;
    body: never;
    /** 200 */
    response: {
      id: string;
      tenantId: string;
      type: string;
      /** the payload as published */
      payload: Record<string, unknown>;
      createdAt: string;
    };
  };
  "GET /v1/tenants/{tenantId}/events/{eventId}/deliveries": {
    params: { tenantId: string; eventId: string };
    query: never;
    body: never;
    /** 200 */
    response: {
      data: Array<{
        id: string;
        tenantId: string;
        eventId: string;
        eventType: string;
        endpointId: string;
        /** the endpoint's URL as it is now */
        endpointUrl: string | null;
        status: ("pending" | "succeeded" | "failed");
        attempts: number;
        nextAttemptAt: string | null;
        lastAttemptAt: string | null;
        lastStatus: number | null;
        lastError: string | null;
        /** network error code of the last attempt (connect_refused, timeout, …); null when it got an HTTP answer */
        lastErrorCode: string | null;
        createdAt: string;
        updatedAt: string;
      }>;
    };
  };
  "POST /v1/tenants/{tenantId}/listen-sessions": {
    params: { tenantId: string };
    query: never;
    body: {
      /** the local URL the CLI forwards to (shown; Herald itself never contacts it) */
      forwardTo: string;
      /** only these event types (patterns); null or absent = all */
      eventTypes?: Array<string> | null;
    };
    /** 200 */
    response: {
      id: string;
      tenantId: string;
      /** the temporary endpoint: its deliveries and attempts show as any endpoint's */
      endpointId: string;
      forwardTo: string;
      eventTypes: Array<string> | null;
      /** the endpoint's signing secret (Standard Webhooks): configure the local receiver with it */
      secret: string;
      /** true when an open session of the same token, forward-to URL and event types was taken up again (same endpoint, same secret) */
      resumed: boolean;
      /** how long the session outlives its connection */
      graceSeconds: number;
      createdAt: string;
    };
  };
  "POST /v1/tenants/{tenantId}/listen-sessions/{sessionId}/reports": {
    params: { tenantId: string; sessionId: string };
    query: never;
    body: {
      relayId: string;
      durationMs: number;
      /** the local receiver's status */
      status?: number;
      headers?: {
        [key: string]: string;
      };
      body?: string;
      error?: {
        /** connect_refused, dns, timeout, reset, ... (as attempts name them) */
        code: string;
        message: string;
      };
    };
    /** 204 */
    response: void;
  };
  "GET /v1/tenants/{tenantId}/listen-sessions/{sessionId}/stream": {
    params: { tenantId: string; sessionId: string };
    query: never;
    body: never;
    /** 200 */
    response: void;
  };
  "GET /v1/tenants/{tenantId}/portal-links": {
    params: { tenantId: string };
    query: { limit?: number; cursor?: string };
    body: never;
    /** 200 */
    response: {
      data: Array<{
        id: string;
        tenantId: string;
        createdAt: string;
        expiresAt: string;
        role: ("manage" | "read");
        platformName: string | null;
        color: string | null;
        /** The audit-log actor who created it */
        createdBy: string;
        revokedAt: string | null;
        status: ("active" | "expired" | "revoked");
      }>;
      nextCursor: string | null;
    };
  };
  "POST /v1/tenants/{tenantId}/portal-links": {
    params: { tenantId: string };
    query: never;
    body: {
      /** Lifetime of the link (Default: 3600) */
      expiresInSeconds?: number;
      /** Shown in the portal header */
      platformName?: string;
      /** Accent colour, #rrggbb */
      color?: string;
      /** `read`: the portal shows everything but changes nothing (Default: manage) */
      role?: ("manage" | "read");
      /** Public address of Herald's UI (Default: the scheme and Host of this request) */
      baseUrl?: string;
    };
    /** 201 */
    response: {
      id: string;
      url: string;
      token: string;
      expiresAt: string;
      role: string;
    };
  };
  "DELETE /v1/tenants/{tenantId}/portal-links": {
    params: { tenantId: string };
    query: never;
    body: never;
    /** 200 */
    response: void;
  };
  "DELETE /v1/tenants/{tenantId}/portal-links/{linkId}": {
    params: { tenantId: string; linkId: string };
    query: never;
    body: never;
    /** 200 */
    response: void;
  };
  "GET /v1/tenants/{tenantId}/stats": {
    params: { tenantId: string };
    query: { since?: string; until?: string; bucket?: ("1m" | "5m" | "15m" | "1h" | "6h" | "1d") };
    body: never;
    /** 200 */
    response: {
      since: string;
      until: string;
      bucket: string;
      totals: {
        succeeded: number;
        failed: number;
        pending: number;
        attempts: number;
        attemptsSucceeded: number;
        attemptsFailed: number;
        p50Ms: number | null;
        p95Ms: number | null;
        p99Ms: number | null;
        successRate: number | null;
      };
      series: Array<{
        start: string;
        succeeded: number;
        failed: number;
        pending: number;
        attempts: number;
        attemptsSucceeded: number;
        attemptsFailed: number;
        p50Ms: number | null;
        p95Ms: number | null;
        p99Ms: number | null;
      }>;
      endpoints: Array<{
        endpointId: string;
        disabled: boolean;
        attempts: number;
        attemptsSucceeded: number;
        successRate: number | null;
        p95Ms: number | null;
        lastAttempt: {
          at: string;
          status: number | null;
          errorCode: string | null;
          succeeded: boolean;
        } | null;
      }>;
      endpointsTruncated: boolean;
    };
  };
  "GET /v1/tenants/{tenantId}/tokens": {
    params: { tenantId: string };
    query: never;
    body: never;
    /** 200 */
    response: {
      data: Array<{
        id: string;
        tenantId: string;
        name: string;
        /** manage: read, change and publish (default); read: GET requests only */
        role: ("manage" | "read");
        createdAt: string;
        revokedAt: string | null;
      }>;
    };
  };
  "POST /v1/tenants/{tenantId}/tokens": {
    params: { tenantId: string };
    query: never;
    body: {
      name?: string;
      /** manage: read, change and publish (default); read: GET requests only */
      role?: ("manage" | "read");
    };
    /** 201 */
    response: {
      id: string;
      tenantId: string;
      name: string;
      /** manage: read, change and publish (default); read: GET requests only */
      role: ("manage" | "read");
      token: string;
      createdAt: string;
    };
  };
  "GET /v1/tenants/{tenantId}/tokens/{tokenId}": {
    params: { tenantId: string; tokenId: string };
    query: never;
    body: never;
    /** 200 */
    response: {
      id: string;
      tenantId: string;
      name: string;
      /** manage: read, change and publish (default); read: GET requests only */
      role: ("manage" | "read");
      createdAt: string;
      revokedAt: string | null;
    };
  };
  "DELETE /v1/tenants/{tenantId}/tokens/{tokenId}": {
    params: { tenantId: string; tokenId: string };
    query: never;
    body: never;
    /** 200 */
    response: void;
  };
}
