import { createHmac } from 'node:crypto';
import type { OldSecret, SignatureConfig } from './types.js';

/** Key bytes of a Standard Webhooks secret: base64 after an optional `whsec_`. */
export function standardKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
}

/** Decoded keys of the secrets a worker signs with, so each is decoded once, not once per delivery. */
const keys = new Map<string, Buffer>();
function cachedKey(secret: string): Buffer {
  let k = keys.get(secret);
  if (!k) {
    if (keys.size >= 10_000) keys.clear();
    k = standardKey(secret);
    keys.set(secret, k);
  }
  return k;
}

/** `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>` (Standard Webhooks). */
export function signStandard(key: Buffer, id: string, timestamp: number, body: string): string {
  return 'v1,' + createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
}

/** HMAC-SHA256 of the raw body under the secret's UTF-8 bytes, the header-HMAC style platforms document. */
export function signHmac(secret: string, body: string, encoding: 'hex' | 'base64'): string {
  return createHmac('sha256', secret).update(body).digest(encoding);
}

/** Secrets that sign now: the current one, then old ones whose grace period has not ended. */
export function signingSecrets(current: string, old: OldSecret[], now: number = Date.now()): string[] {
  return [current, ...old.filter((o) => Date.parse(o.expiresAt) > now).map((o) => o.secret)];
}

/**
 * Signature headers of one attempt. Standard Webhooks: one space-separated
 * `webhook-signature` with a signature per live secret, so receivers verify
 * with either key during rotation. Header-HMAC: the named header carries
 * the current secret's signature alone (receivers written to platform docs
 * compare the whole header value), and during rotation the older secrets'
 * signatures go in `<header>-previous`.
 */
export function signatureHeaders(
  signature: SignatureConfig,
  secrets: string[],
  id: string,
  timestamp: number,
  body: string,
): Record<string, string> {
  if (signature.scheme === 'standard') {
    return { 'webhook-signature': secrets.map((s) => signStandard(cachedKey(s), id, timestamp, body)).join(' ') };
  }
  const [current, ...older] = secrets.map((s) => signHmac(s, body, signature.encoding));
  const headers: Record<string, string> = { [signature.header.toLowerCase()]: current ?? '' };
  if (older.length > 0) headers[`${signature.header.toLowerCase()}-previous`] = older.join(' ');
  return headers;
}
