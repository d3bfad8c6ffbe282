/**
 * The catalogue of Herald's errors: every code, the HTTP status the API
 * answers it with (this table is the only place codes meet HTTP), and helpers
 * that build them with a message. Every error response has the shape
 * `{error: {code, message, details?}}`. Anything thrown that is not an
 * ApiError is turned into one where it is caught (server.ts), or logged and
 * answered with a generic 500.
 */
export const ERROR_CODES = {
  /** A field is missing, of the wrong type or value; `details` names it. */
  validation_error: 400,
  /** The request cannot be read (malformed JSON or HTTP). */
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  /** The body took too long to arrive. */
  request_timeout: 408,
  conflict: 409,
  /** An event id reused for another type or payload. */
  idempotency_conflict: 409,
  /** The request body, or the delivered body an envelope would make, is over the limit. */
  payload_too_large: 413,
  /** Not JSON, or compressed. */
  unsupported_media_type: 415,
  /** A payload that does not match its event type's schema. */
  unprocessable: 422,
  /** A payload whose validation ran past its time budget. */
  validation_timeout: 422,
  rate_limited: 429,
  headers_too_large: 431,
  internal: 500,
  /** `herald listen`: the local receiver could not be reached (refused, reset, DNS...): the message starts with how (`local receiver: connect_refused: ...`). */
  receiver_unreachable: 502,
  /** `herald listen`: the CLI's connection closed while a delivery waited for its answer. */
  listener_disconnected: 502,
  /** The database is unreachable; retry. */
  unavailable: 503,
  /** `herald listen`: no CLI is connected to the session (at this API process); the delivery is retried on its schedule. */
  listener_offline: 503,
  /** `herald listen`: the CLI did not answer within the endpoint's timeout. */
  listener_timeout: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class ApiError extends Error {
  /** The HTTP status of `code` (from ERROR_CODES). */
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.status = ERROR_CODES[code];
  }

  /** The response body. */
  body(): { error: { code: ErrorCode; message: string; details?: unknown } } {
    return { error: { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) } };
  }
}

export const errors = {
  invalidField: (field: string, problem: string) => new ApiError('validation_error', `${field}: ${problem}`, [{ field, message: problem }]),
  badRequest: (message: string) => new ApiError('bad_request', message),
  unauthorized: () => new ApiError('unauthorized', 'missing or invalid bearer token'),
  forbidden: (message = 'this token may not do that') => new ApiError('forbidden', message),
  notFound: (what: string) => new ApiError('not_found', `${what} not found`),
  noRoute: (method: string, path: string) => new ApiError('not_found', `no route ${method} ${path}`),
  conflict: (message: string) => new ApiError('conflict', message),
  idempotencyConflict: (where: string, id: string) =>
    new ApiError('idempotency_conflict', `${where}: event ${id} was already published with another type or payload; reuse an id only to retry the same event`, [
      { field: where, message: 'already used by an event with another type or payload' },
    ]),
  payloadTooLarge: (message: string) => new ApiError('payload_too_large', message),
  unsupportedMediaType: (message: string) => new ApiError('unsupported_media_type', message),
  unprocessable: (message: string, details?: unknown) => new ApiError('unprocessable', message, details),
  validationTimeout: (budgetMs: number) =>
    new ApiError(
      'validation_timeout',
      `payload validation took longer than ${budgetMs} ms (HERALD_VALIDATION_TIMEOUT_MS); the payload is too large or the schema too costly for it`,
    ),
  rateLimited: (message: string) => new ApiError('rate_limited', message),
  unavailable: () => new ApiError('unavailable', 'database unavailable, retry later'),
  internal: () => new ApiError('internal', 'internal error'),
  listenerOffline: (sessionId: string) =>
    new ApiError('listener_offline', `herald listen is not connected to session ${sessionId} here; the delivery is retried on its schedule`),
  listenerDisconnected: () => new ApiError('listener_disconnected', 'herald listen disconnected before the local receiver answered'),
  listenerTimeout: (ms: number) => new ApiError('listener_timeout', `herald listen did not report the local receiver's answer within ${ms} ms`),
  receiverUnreachable: (code: string, message: string) =>
    new ApiError('receiver_unreachable', `local receiver: ${code}: ${message}`),
  tooDeep: (limit: number) => new ApiError('bad_request', `JSON nested deeper than ${limit} levels`),
} as const;
