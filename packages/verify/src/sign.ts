/* The sending side, for tests and for senders that are not Herald. */
import { encodeBase64, encodeHex, toBytes, utf8 } from './encoding.js';
import { hmacSha256 } from './hmac.js';
import { signedContent, standardKey } from './standard.js';

export type SignatureEncoding = 'hex' | 'base64';

function unixSeconds(timestamp: number | Date): number {
  const seconds = timestamp instanceof Date ? Math.floor(timestamp.getTime() / 1000) : timestamp;
  if (!Number.isSafeInteger(seconds) || seconds < 0) {
    throw new TypeError('timestamp must be a Date or a non-negative integer number of unix seconds');
  }
  return seconds;
}

/**
 * A Standard Webhooks signature, `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`,
 * the key being the base64 after `whsec_` in `secret`.
 */
export async function signStandard(
  secret: string,
  id: string,
  timestamp: number | Date,
  body: string | Uint8Array,
): Promise<string> {
  if (typeof id !== 'string' || id.length === 0) throw new TypeError('id must be a non-empty string');
  const key = standardKey(secret);
  const mac = await hmacSha256(key, signedContent(id, unixSeconds(timestamp), toBytes(body)));
  return `v1,${encodeBase64(mac)}`;
}

/**
 * The three Standard Webhooks headers for one message. With several secrets
 * (rotation) `webhook-signature` carries one signature per secret,
 * space-separated, as Herald sends it.
 */
export async function signStandardHeaders(
  secret: string | readonly string[],
  id: string,
  timestamp: number | Date,
  body: string | Uint8Array,
): Promise<{ 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string }> {
  const secrets = typeof secret === 'string' ? [secret] : secret;
  if (secrets.length === 0) throw new TypeError('at least one secret is required');
  const seconds = unixSeconds(timestamp);
  const signatures = await Promise.all(secrets.map((s) => signStandard(s, id, seconds, body)));
  return { 'webhook-id': id, 'webhook-timestamp': String(seconds), 'webhook-signature': signatures.join(' ') };
}

/**
 * Header-HMAC: HMAC-SHA256 of the raw body, keyed with the UTF-8 bytes of
 * `secret` exactly as given (a `whsec_` prefix is part of the key here).
 */
export async function signHmac(
  secret: string,
  body: string | Uint8Array,
  encoding: SignatureEncoding = 'hex',
): Promise<string> {
  if (typeof secret !== 'string' || secret.length === 0) throw new TypeError('secret must be a non-empty string');
  if (encoding !== 'hex' && encoding !== 'base64') throw new TypeError("encoding must be 'hex' or 'base64'");
  const mac = await hmacSha256(utf8(secret), toBytes(body));
  return encoding === 'hex' ? encodeHex(mac) : encodeBase64(mac);
}
