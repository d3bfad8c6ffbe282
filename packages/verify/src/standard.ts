/* The Standard Webhooks scheme (https://www.standardwebhooks.com). */
import { concatBytes, decodeBase64, utf8 } from './encoding.js';

export const STANDARD_ID_HEADER = 'webhook-id';
export const STANDARD_TIMESTAMP_HEADER = 'webhook-timestamp';
export const STANDARD_SIGNATURE_HEADER = 'webhook-signature';

const SECRET_PREFIX = 'whsec_';

/**
 * Key bytes of a Standard Webhooks secret: the base64 after an optional
 * `whsec_` prefix (padding optional). `TypeError` if it is not base64 or
 * decodes to nothing.
 */
export function standardKey(secret: string): Uint8Array<ArrayBuffer> {
  if (typeof secret !== 'string' || secret.length === 0) throw new TypeError('secret must be a non-empty string');
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  let key: Uint8Array<ArrayBuffer>;
  try {
    key = decodeBase64(encoded.trim());
  } catch {
    throw new TypeError('a Standard Webhooks secret must be base64, optionally prefixed with "whsec_"');
  }
  if (key.length === 0) throw new TypeError('a Standard Webhooks secret must not be empty');
  return key;
}

/** The signed content: `{id}.{timestamp}.{body}` as bytes (the body's bytes as they are). */
export function signedContent(id: string, timestamp: number, body: Uint8Array): Uint8Array<ArrayBuffer> {
  return concatBytes([utf8(`${id}.${timestamp}.`), body]);
}

/**
 * The signatures of one version (`v1`: HMAC, `v1a`: ed25519) in a
 * `webhook-signature` header: space-separated `version,signature` pairs
 * (several during secret rotation). Other versions and malformed entries
 * are skipped. Tolerates the `, ` that `Headers.get` puts between repeated
 * headers.
 */
export function parseStandardSignatures(header: string, version: 'v1' | 'v1a' = 'v1'): string[] {
  const out: string[] = [];
  for (let token of header.split(/\s+/)) {
    token = token.replace(/,+$/, '');
    const comma = token.indexOf(',');
    if (comma < 0) continue;
    if (token.slice(0, comma) !== version) continue;
    const signature = token.slice(comma + 1);
    if (signature) out.push(signature);
  }
  return out;
}

/** Parses a `webhook-timestamp` value: unix seconds, digits only. */
export function parseTimestamp(value: string): number | undefined {
  if (!/^\d{1,15}$/.test(value)) return undefined;
  return Number(value);
}
