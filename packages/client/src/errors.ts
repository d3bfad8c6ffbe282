/** One invalid field of a refused request. */
export interface FieldProblem {
  field: string;
  message: string;
}

/**
 * Herald refused a request: `status` is the HTTP status, `code` one of the
 * API's error codes (`validation_error`, `not_found`, `idempotency_conflict`,
 * `rate_limited`, ...), `message` the API's own, naming the field.
 */
export class HeraldError extends Error {
  override readonly name = 'HeraldError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: FieldProblem[],
  ) {
    super(message);
  }
}
