/** Why a webhook was rejected. */
export type WebhookVerificationErrorCode =
  | 'missing_header'
  | 'invalid_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  | 'no_matching_signature'
  | 'invalid_body';

/**
 * A request that is not a valid, fresh, correctly signed webhook. Answer it
 * with a 4xx (the adapters answer 400). Messages name the header at fault but
 * never contain the expected signature or the secret.
 *
 * Programmer mistakes (empty secret, bad options, a body that was already
 * parsed) are plain `TypeError`s instead, so they are not mistaken for a
 * bad request.
 */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
  readonly code: WebhookVerificationErrorCode;
  /** Lower-cased name of the header at fault, when one is. */
  readonly header: string | undefined;

  constructor(code: WebhookVerificationErrorCode, message: string, options?: { header?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.header = options?.header;
  }
}
