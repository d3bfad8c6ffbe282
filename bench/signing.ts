import { createHmac, randomBytes } from 'node:crypto';

/** A random Standard Webhooks key (what `whsec_<base64>` decodes to). */
export const newKey = (): Buffer => randomBytes(24);

/** The headers Herald sends with a delivery, signed the same way (HMAC-SHA256 over `id.timestamp.body`). */
export function signedHeaders(key: Buffer, id: string, body: string): Record<string, string> {
  const ts = Math.floor(Date.now() / 1000);
  return {
    'content-type': 'application/json',
    'user-agent': 'herald-bench',
    'webhook-id': id,
    'webhook-timestamp': String(ts),
    'webhook-signature': 'v1,' + createHmac('sha256', key).update(`${id}.${ts}.`).update(body).digest('base64'),
  };
}
