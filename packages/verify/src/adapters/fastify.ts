/*
 * Fastify. Fastify parses JSON itself, so the webhook route needs the raw
 * body instead; register this in the (encapsulated) plugin of that route:
 *
 *   app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
 */
import type { HeadersRecord } from '../headers.js';
import { verify, type VerifiedWebhook, type VerifyOptions } from '../verify.js';

/** The parts of a `FastifyRequest` that are used. */
export interface FastifyRequestLike {
  readonly body: unknown;
  readonly headers: HeadersRecord;
}

/**
 * Verifies a Fastify request whose body is the raw Buffer (or string, with
 * `parseAs: 'string'`). Rejects with `TypeError` when the body was parsed —
 * see the content-type parser above.
 */
export async function fastifyVerify(
  request: FastifyRequestLike,
  secret: string | readonly string[],
  options?: VerifyOptions,
): Promise<VerifiedWebhook> {
  const body = request.body;
  if (!(body instanceof Uint8Array) && typeof body !== 'string') {
    throw new TypeError(
      'fastifyVerify needs the raw body, but request.body is ' +
        (body === undefined || body === null ? String(body) : `a parsed ${typeof body}`) +
        ". Register app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body)) for the webhook route",
    );
  }
  return verify(body, request.headers, secret, options);
}
