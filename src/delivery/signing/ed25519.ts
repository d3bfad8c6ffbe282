import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

/*
 * Standard Webhooks' asymmetric scheme: ed25519 over `{id}.{timestamp}.{body}`,
 * sent as `v1a,<base64 signature>`. The signing key is shown as
 * `whsk_<base64>` and the key receivers verify with as `whpk_<base64>`.
 *
 * A `whsk_` key is the 32-byte seed followed by the 32-byte public key
 * (64 bytes, as Svix serialises it, so keys move between the two); a bare
 * 32-byte seed is accepted on input too. The public key is always derived
 * from the seed, and a 64-byte key whose second half is another key's is
 * refused rather than silently trusted.
 */

export const SIGNING_KEY_PREFIX = 'whsk_';
export const PUBLIC_KEY_PREFIX = 'whpk_';

/** DER header of a PKCS#8 ed25519 private key; the 32-byte seed follows it. */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Whether a secret is an ed25519 signing key (by its prefix). */
export function isSigningKey(secret: string): boolean {
  return secret.startsWith(SIGNING_KEY_PREFIX);
}

function seedPrivateKey(seed: Buffer): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
}

/** The 32 raw bytes of an ed25519 public key (the JWK `x`). */
function rawPublicKey(key: KeyObject): Buffer {
  const x = createPublicKey(key).export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw new Error('ed25519 public key has no x');
  return Buffer.from(x, 'base64url');
}

/** Why a `whsk_` key is unusable, or null when it is a valid ed25519 signing key. */
export function signingKeyProblem(secret: string): string | null {
  if (!isSigningKey(secret)) return 'the ed25519 scheme needs a whsk_ signing key (omit it to have one generated)';
  const b64 = secret.slice(SIGNING_KEY_PREFIX.length);
  if (!BASE64.test(b64)) return 'a whsk_ key must be base64 after the prefix';
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length !== 32 && bytes.length !== 64) return 'a whsk_ key must hold 64 bytes (seed and public key) or a 32-byte seed';
  if (bytes.length === 64 && !rawPublicKey(seedPrivateKey(bytes.subarray(0, 32))).equals(bytes.subarray(32))) {
    return "a whsk_ key's last 32 bytes must be the public key of its first 32";
  }
  return null;
}

/** The private key of a valid `whsk_` key (check it with signingKeyProblem first). */
export function privateKeyOf(secret: string): KeyObject {
  const bytes = Buffer.from(secret.slice(SIGNING_KEY_PREFIX.length), 'base64');
  return seedPrivateKey(bytes.subarray(0, 32));
}

/** `whpk_<base64 of the 32-byte public key>` of a `whsk_` key: what receivers verify with. */
export function publicKeyOf(secret: string): string {
  return PUBLIC_KEY_PREFIX + rawPublicKey(privateKeyOf(secret)).toString('base64');
}

/** A new signing key: `whsk_` + base64(seed ‖ public key). */
export function generateSigningKey(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_ED25519.length);
  return SIGNING_KEY_PREFIX + Buffer.concat([seed, rawPublicKey(privateKey)]).toString('base64');
}

/** `v1a,<base64 ed25519 signature of "{id}.{timestamp}.{body}">`. */
export function signEd25519(key: KeyObject, id: string, timestamp: number, body: string): string {
  return 'v1a,' + sign(null, Buffer.from(`${id}.${timestamp}.${body}`), key).toString('base64');
}
