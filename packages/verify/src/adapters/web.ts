/* Web `Request` handlers: Hono, Next.js route handlers, Deno, Bun, Cloudflare Workers. */
import type { HeadersGetter } from '../headers.js';
import { verify, type VerifiedWebhook, type VerifyOptions } from '../verify.js';

/** The parts of a web `Request` that are used. */
export interface WebRequestLike {
  readonly headers: HeadersGetter;
  readonly bodyUsed?: boolean;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/**
 * Reads the body of a web `Request` (`await request.arrayBuffer()`) and
 * verifies it. The body can be read only once: do not call `request.json()`
 * before — the parsed payload is returned.
 */
export async function verifyRequest(
  request: WebRequestLike,
  secret: string | readonly string[],
  options?: VerifyOptions,
): Promise<VerifiedWebhook> {
  if (request.bodyUsed) {
    throw new TypeError('the request body was already read; call verifyRequest before request.json()/text(), or pass request.clone()');
  }
  const body = new Uint8Array(await request.arrayBuffer());
  return verify(body, request.headers, secret, options);
}
