/* Verifying a received webhook: signature, freshness, then JSON. */
import { decodeBase64, decodeUtf8, encodeBase64, encodeHex, toBytes, timingSafeEqualStrings, utf8 } from './encoding.js';
import { importPublicKey, isPublicKey, publicKeyBytes, verifyEd25519 } from './ed25519.js';
import { WebhookVerificationError } from './errors.js';
import { getHeader, type HeadersLike } from './headers.js';
import { hmacSha256 } from './hmac.js';
import {
  STANDARD_ID_HEADER,
  STANDARD_SIGNATURE_HEADER,
  STANDARD_TIMESTAMP_HEADER,
  parseStandardSignatures,
  parseTimestamp,
  signedContent,
  standardKey,
} from './standard.js';

export type Scheme = 'standard' | 'ed25519' | 'hmac-sha256';

export interface VerifyOptions {
  /**
   * `standard` (Standard Webhooks: `webhook-id`, `webhook-timestamp`,
   * `webhook-signature` with `v1` HMAC signatures), `ed25519` (the same
   * headers with `v1a` ed25519 signatures, verified with the endpoint's
   * `whpk_` public key) or `hmac-sha256` (a named header with the HMAC of
   * the body). (Default: `hmac-sha256` when `header` is set, else `ed25519`
   * when the keys are `whpk_` public keys, else `standard`)
   */
  scheme?: Scheme;
  /** hmac-sha256 only: the header carrying the signature, e.g. `X-AdFlow-Signature`. Required for that scheme. */
  header?: string;
  /** hmac-sha256 only: how the HMAC is encoded. (Default: `hex`) */
  encoding?: 'hex' | 'base64';
  /** standard and ed25519: largest accepted distance between `webhook-timestamp` and now, in seconds. (Default: 300) */
  toleranceSeconds?: number;
  /** standard and ed25519: the current time in unix **seconds**. (Default: `Date.now() / 1000`) */
  now?: () => number;
}

/** A webhook whose signature checked out. */
export interface VerifiedWebhook {
  /** `webhook-id` (standard and ed25519 schemes): the message id, stable across retries — use it for idempotency. */
  id?: string;
  /** `webhook-timestamp` (standard and ed25519 schemes), unix seconds. */
  timestamp?: number;
  /** The body, parsed as JSON. */
  payload: unknown;
}

/** Verifies one request: `(rawBody, headers) => Promise<VerifiedWebhook>`. */
export type Verifier = (rawBody: string | Uint8Array, headers: HeadersLike) => Promise<VerifiedWebhook>;

const DEFAULT_TOLERANCE_SECONDS = 300;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

interface Freshness {
  toleranceSeconds: number;
  now: () => number;
}
type Config =
  | ({ scheme: 'standard'; keys: Uint8Array<ArrayBuffer>[] } & Freshness)
  | ({ scheme: 'ed25519'; keys: () => Promise<CryptoKey[]> } & Freshness)
  | { scheme: 'hmac-sha256'; keys: Uint8Array<ArrayBuffer>[]; header: string; encoding: 'hex' | 'base64' };
type SignedHeadersConfig = Extract<Config, { scheme: 'standard' | 'ed25519' }>;

/** The Web Crypto keys of `whpk_` public keys, imported on first use and kept. */
function lazyPublicKeys(keys: readonly string[]): () => Promise<CryptoKey[]> {
  const bytes = keys.map(publicKeyBytes); // a bad key throws now, not on the first request
  let imported: Promise<CryptoKey[]> | undefined;
  return () => (imported ??= Promise.all(bytes.map(importPublicKey)));
}

function freshness(options: VerifyOptions): Freshness {
  const toleranceSeconds = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (typeof toleranceSeconds !== 'number' || Number.isNaN(toleranceSeconds) || toleranceSeconds < 0) {
    throw new TypeError('options.toleranceSeconds must be a number >= 0');
  }
  const now = options.now ?? (() => Date.now() / 1000);
  if (typeof now !== 'function') throw new TypeError('options.now must be a function returning unix seconds');
  return { toleranceSeconds, now };
}

function secretList(secret: string | readonly string[]): readonly string[] {
  const secrets = typeof secret === 'string' ? [secret] : secret;
  if (!Array.isArray(secrets) || secrets.length === 0) {
    throw new TypeError('secret must be a non-empty string or a non-empty array of them');
  }
  for (const s of secrets) {
    if (typeof s !== 'string' || s.length === 0) throw new TypeError('every secret must be a non-empty string');
  }
  return secrets;
}

function resolveConfig(secret: string | readonly string[], options: VerifyOptions = {}): Config {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const secrets = secretList(secret);
  const scheme =
    options.scheme ?? (options.header !== undefined ? 'hmac-sha256' : secrets.every(isPublicKey) ? 'ed25519' : 'standard');

  if (scheme === 'standard' || scheme === 'ed25519') {
    if (options.header !== undefined || options.encoding !== undefined) {
      throw new TypeError(`options.header and options.encoding apply only to scheme 'hmac-sha256'`);
    }
    if (scheme === 'standard') {
      if (secrets.some(isPublicKey)) {
        throw new TypeError("a whpk_ key is an ed25519 public key: verify with scheme 'ed25519' (every key a whpk_ key)");
      }
      return { scheme, keys: secrets.map(standardKey), ...freshness(options) };
    }
    return { scheme, keys: lazyPublicKeys(secrets), ...freshness(options) };
  }

  if (scheme === 'hmac-sha256') {
    const header = options.header;
    if (typeof header !== 'string' || !HEADER_NAME.test(header)) {
      throw new TypeError("scheme 'hmac-sha256' needs options.header, the name of the signature header");
    }
    const encoding = options.encoding ?? 'hex';
    if (encoding !== 'hex' && encoding !== 'base64') throw new TypeError("options.encoding must be 'hex' or 'base64'");
    // The key is the secret's UTF-8 bytes as-is, `whsec_` prefix included.
    return { scheme, keys: secrets.map((s) => utf8(s)), header: header.toLowerCase(), encoding };
  }

  throw new TypeError("options.scheme must be 'standard', 'ed25519' or 'hmac-sha256'");
}

function bodyBytes(rawBody: unknown): Uint8Array<ArrayBuffer> {
  if (typeof rawBody === 'string' || rawBody instanceof Uint8Array) return toBytes(rawBody);
  const got = rawBody === null ? 'null' : typeof rawBody;
  throw new TypeError(
    `the raw request body is needed (a string or Uint8Array/Buffer, exactly as received); got ${got}` +
      (got === 'object' ? ' — was it already parsed as JSON?' : ''),
  );
}

function parsePayload(body: Uint8Array): unknown {
  let text: string;
  try {
    text = decodeUtf8(body);
  } catch (cause) {
    throw new WebhookVerificationError('invalid_body', 'Body is not valid UTF-8', { cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new WebhookVerificationError('invalid_body', text.trim() === '' ? 'Body is empty' : 'Body is not valid JSON', {
      cause,
    });
  }
}

function requireHeader(headers: HeadersLike, name: string, separator?: string): string {
  const value = getHeader(headers, name, separator);
  if (value === undefined) {
    throw new WebhookVerificationError('missing_header', `Missing ${name} header`, { header: name });
  }
  return value;
}

function checkFreshness(timestamp: number, config: Freshness): void {
  const now = config.now();
  if (typeof now !== 'number' || !Number.isFinite(now)) throw new TypeError('options.now must return a finite number');
  if (now > 1e11) throw new TypeError('options.now must return unix seconds, not milliseconds');
  const tolerance = config.toleranceSeconds;
  if (now - timestamp > tolerance) {
    throw new WebhookVerificationError(
      'timestamp_too_old',
      `${STANDARD_TIMESTAMP_HEADER} is ${Math.floor(now - timestamp)}s in the past, more than the ${tolerance}s tolerance`,
      { header: STANDARD_TIMESTAMP_HEADER },
    );
  }
  if (timestamp - now > tolerance) {
    throw new WebhookVerificationError(
      'timestamp_too_new',
      `${STANDARD_TIMESTAMP_HEADER} is ${Math.ceil(timestamp - now)}s in the future, more than the ${tolerance}s tolerance`,
      { header: STANDARD_TIMESTAMP_HEADER },
    );
  }
}

/** Whether one of the `v1` signatures is the HMAC of `content` under one of the keys (constant-time compare). */
async function matchesHmac(keys: Uint8Array<ArrayBuffer>[], received: string[], content: Uint8Array<ArrayBuffer>): Promise<boolean> {
  for (const key of keys) {
    const expected = encodeBase64(await hmacSha256(key, content));
    for (const signature of received) {
      if (timingSafeEqualStrings(signature, expected)) return true;
    }
  }
  return false;
}

/** Whether one of the `v1a` signatures is an ed25519 signature of `content` by one of the public keys. */
async function matchesEd25519(keys: CryptoKey[], received: string[], content: Uint8Array<ArrayBuffer>): Promise<boolean> {
  for (const signature of received) {
    let raw: Uint8Array<ArrayBuffer>;
    try {
      raw = decodeBase64(signature);
    } catch {
      continue; // not base64: cannot be a signature
    }
    if (raw.length !== 64) continue;
    for (const key of keys) {
      if (await verifyEd25519(key, raw, content)) return true;
    }
  }
  return false;
}

async function verifyStandard(
  config: SignedHeadersConfig,
  body: Uint8Array<ArrayBuffer>,
  headers: HeadersLike,
): Promise<VerifiedWebhook> {
  const id = requireHeader(headers, STANDARD_ID_HEADER);
  const timestampValue = requireHeader(headers, STANDARD_TIMESTAMP_HEADER);
  const signatureValue = requireHeader(headers, STANDARD_SIGNATURE_HEADER, ' ');

  const timestamp = parseTimestamp(timestampValue);
  if (timestamp === undefined) {
    throw new WebhookVerificationError(
      'invalid_timestamp',
      `${STANDARD_TIMESTAMP_HEADER} header is not a unix timestamp in seconds`,
      { header: STANDARD_TIMESTAMP_HEADER },
    );
  }
  checkFreshness(timestamp, config);

  const version = config.scheme === 'ed25519' ? 'v1a' : 'v1';
  const received = parseStandardSignatures(signatureValue, version);
  if (received.length === 0) {
    throw new WebhookVerificationError(
      'no_matching_signature',
      `${STANDARD_SIGNATURE_HEADER} header has no ${version} signature`,
      { header: STANDARD_SIGNATURE_HEADER },
    );
  }
  const content = signedContent(id, timestamp, body);
  let matched: boolean;
  let what: string;
  if (config.scheme === 'ed25519') {
    const keys = await config.keys();
    matched = await matchesEd25519(keys, received, content);
    what = keys.length > 1 ? 'public keys' : 'public key';
  } else {
    matched = await matchesHmac(config.keys, received, content);
    what = config.keys.length > 1 ? 'secrets' : 'secret';
  }
  if (matched) return { id, timestamp, payload: parsePayload(body) };
  throw new WebhookVerificationError(
    'no_matching_signature',
    `No signature in the ${STANDARD_SIGNATURE_HEADER} header matches this body, id and timestamp under the configured ${what}`,
    { header: STANDARD_SIGNATURE_HEADER },
  );
}

async function verifyHmac(
  config: Extract<Config, { scheme: 'hmac-sha256' }>,
  body: Uint8Array<ArrayBuffer>,
  headers: HeadersLike,
): Promise<VerifiedWebhook> {
  const value = requireHeader(headers, config.header);
  // During rotation the older secrets' signatures may come in the same header
  // (comma- or space-separated) or in `<header>-previous`.
  const previous = getHeader(headers, `${config.header}-previous`) ?? '';
  const received = `${value} ${previous}`
    .split(/[\s,]+/)
    .filter((s) => s.length > 0)
    .map((s) => (config.encoding === 'hex' ? s.toLowerCase() : s));
  for (const key of config.keys) {
    const mac = await hmacSha256(key, body);
    const expected = config.encoding === 'hex' ? encodeHex(mac) : encodeBase64(mac);
    for (const signature of received) {
      if (timingSafeEqualStrings(signature, expected)) return { payload: parsePayload(body) };
    }
  }
  throw new WebhookVerificationError(
    'no_matching_signature',
    `The ${config.header} header does not match the HMAC-SHA256 (${config.encoding}) of the body under the configured secret${config.keys.length > 1 ? 's' : ''}`,
    { header: config.header },
  );
}

/**
 * A verifier with the secrets and options checked and decoded once, for use
 * on every request. Throws `TypeError` right away on a bad secret or options.
 */
export function createVerifier(secret: string | readonly string[], options?: VerifyOptions): Verifier {
  const config = resolveConfig(secret, options);
  return async (rawBody, headers) => {
    const body = bodyBytes(rawBody);
    if (typeof headers !== 'object' || headers === null) throw new TypeError('headers must be a Headers or an object');
    return config.scheme === 'hmac-sha256' ? verifyHmac(config, body, headers) : verifyStandard(config, body, headers);
  };
}

/**
 * Verifies a webhook from its raw body (exactly as received — not re-serialized
 * JSON), its headers and the endpoint's secret(s), and parses the body.
 *
 * Several secrets may be given during rotation; any that matches is accepted.
 * For ed25519 endpoints `secret` is the endpoint's `whpk_` public key (or
 * several), never its `whsk_` signing key.
 * Rejects with {@link WebhookVerificationError} for a bad request, and with
 * `TypeError` for a bad secret, options or body type.
 */
export async function verify(
  rawBody: string | Uint8Array,
  headers: HeadersLike,
  secret: string | readonly string[],
  options?: VerifyOptions,
): Promise<VerifiedWebhook> {
  return createVerifier(secret, options)(rawBody, headers);
}
