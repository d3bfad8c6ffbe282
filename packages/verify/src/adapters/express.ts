/*
 * Express (4 and 5), after `express.raw({ type: 'application/json' })`:
 *
 *   app.post('/webhooks', express.raw({ type: 'application/json' }), expressMiddleware(secret), handler)
 */
import { WebhookVerificationError } from '../errors.js';
import type { HeadersRecord } from '../headers.js';
import { createVerifier, type VerifiedWebhook, type VerifyOptions } from '../verify.js';

/** The parts of an Express `Request` that are used; `webhook` is set on success. */
export interface ExpressRequestLike {
  body?: unknown;
  readonly headers: HeadersRecord;
  webhook?: VerifiedWebhook;
}

/** The parts of an Express `Response` that are used. */
export interface ExpressResponseLike {
  status(code: number): { json(body: unknown): unknown };
}

export type ExpressNext = (error?: unknown) => void;

export interface ExpressMiddlewareOptions<Req extends ExpressRequestLike, Res extends ExpressResponseLike>
  extends VerifyOptions {
  /**
   * Answers a request that failed verification.
   * (Default: `400 {"error": code, "message": message}`)
   */
  onError?: (error: WebhookVerificationError, req: Req, res: Res, next: ExpressNext) => void;
}

/**
 * Middleware that verifies the webhook and sets `req.webhook`
 * (`{ id, timestamp, payload }`), or answers 400. Needs the raw body Buffer
 * from `express.raw()` in front of it and throws a `TypeError` when
 * `req.body` is anything else. A bad secret or options throw right away.
 */
export function expressMiddleware<
  Req extends ExpressRequestLike = ExpressRequestLike,
  Res extends ExpressResponseLike = ExpressResponseLike,
>(
  secret: string | readonly string[],
  options: ExpressMiddlewareOptions<Req, Res> = {},
): (req: Req, res: Res, next: ExpressNext) => void {
  const { onError, ...verifyOptions } = options;
  const verifier = createVerifier(secret, verifyOptions);
  return function heraldWebhook(req, res, next) {
    const body = req.body;
    if (!(body instanceof Uint8Array)) {
      const got =
        body === undefined
          ? 'undefined'
          : typeof body === 'object' && body !== null && Object.keys(body).length === 0
            ? 'an empty object'
            : `a parsed ${typeof body}`;
      throw new TypeError(
        `expressMiddleware needs the raw body Buffer but req.body is ${got}: mount express.raw({ type: 'application/json' }) ` +
          'before it (and no express.json() for this route), and check the request Content-Type matches its type option',
      );
    }
    verifier(body, req.headers).then(
      (webhook) => {
        req.webhook = webhook;
        next();
      },
      (error: unknown) => {
        if (!(error instanceof WebhookVerificationError)) {
          next(error);
        } else if (onError) {
          onError(error, req, res, next);
        } else {
          res.status(400).json({ error: error.code, message: error.message });
        }
      },
    );
  };
}
