import { createHmac } from 'node:crypto';
import { privateKeyOf, signEd25519 } from './signing/ed25519.js';
import type { OldSecret, SignatureConfig } from './types.js';

/** Key bytes of a Standard Webhooks secret: base64 after an optional `whsec_`. */
export function standardKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
}

/**
 * `make` remembered per secret, so what a worker signs with is prepared once
 * per secret, not once per delivery: a decoded HMAC key, or an ed25519
 * KeyObject (parsing its DER costs more than signing a small body). Past
 * 10,000 secrets the cache starts afresh.
 */
function perSecret<T>(make: (secret: string) => T): (secret: string) => T {
  const cache = new Map<string, T>();
  return (secret) => {
    let v = cache.get(secret);
    if (v === undefined) {
      if (cache.size >= 10_000) cache.clear();
      v = make(secret);
      cache.set(secret, v);
    }
    return v;
  };
}
const cachedKey = perSecret(standardKey);
const cachedPrivateKey = perSecret(privateKeyOf);

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
 * signatures go in `<header>-previous`. ed25519: as Standard Webhooks,
 * with a `v1a,` signature per live key.
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
  if (signature.scheme === 'ed25519') {
    return { 'webhook-signature': secrets.map((s) => signEd25519(cachedPrivateKey(s), id, timestamp, body)).join(' ') };
  }
  const [current, ...older] = secrets.map((s) => signHmac(s, body, signature.encoding));
  const headers: Record<string, string> = { [signature.header.toLowerCase()]: current ?? '' };
  if (older.length > 0) headers[`${signature.header.toLowerCase()}-previous`] = older.join(' ');
  return headers;
}
