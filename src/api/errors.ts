/**
 * The catalogue of errors the API answers with: a stable code, an HTTP
 * status, and a message. Every error response has the shape
 * `{error: {code, message, details?}}`. Anything thrown that is not an
 * ApiError is logged and answered with a generic 500.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const errors = {
  invalidField: (field: string, problem: string) =>
    new ApiError(400, 'validation_error', `${field}: ${problem}`, [{ field, message: problem }]),
  unauthorized: () => new ApiError(401, 'unauthorized', 'missing or invalid bearer token'),
  forbidden: (message = 'this token may not do that') => new ApiError(403, 'forbidden', message),
  notFound: (what: string) => new ApiError(404, 'not_found', `${what} not found`),
  conflict: (message: string) => new ApiError(409, 'conflict', message),
  unprocessable: (message: string, details?: unknown) => new ApiError(422, 'unprocessable', message, details),
  payloadTooLarge: (message: string) => new ApiError(413, 'payload_too_large', message),
  idempotencyConflict: (where: string, id: string) =>
    new ApiError(
      409,
      'idempotency_conflict',
      `${where}: event ${id} was already published with another type or payload; reuse an id only to retry the same event`,
      [{ field: where, message: 'already used by an event with another type or payload' }],
    ),
  tooDeep: (limit: number) => new ApiError(400, 'bad_request', `JSON nested deeper than ${limit} levels`),
} as const;
