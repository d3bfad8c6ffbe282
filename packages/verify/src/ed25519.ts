/* Standard Webhooks' asymmetric scheme (`v1a`): ed25519 through Web Crypto. */
import { decodeBase64 } from './encoding.js';

export const PUBLIC_KEY_PREFIX = 'whpk_';

/** Whether a key is a Standard Webhooks ed25519 public key (by its `whpk_` prefix). */
export function isPublicKey(key: string): boolean {
  return typeof key === 'string' && key.startsWith(PUBLIC_KEY_PREFIX);
}

function subtleCrypto(): SubtleCrypto {
  const subtle = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  if (!subtle) {
    throw new Error('@herald/verify needs Web Crypto (globalThis.crypto.subtle); use Node 20+ or a runtime that provides it');
  }
  return subtle;
}

/**
 * The 32 bytes of a `whpk_<base64>` public key. `TypeError` if the prefix is
 * missing, the rest is not base64, or it is not 32 bytes long.
 */
export function publicKeyBytes(key: string): Uint8Array<ArrayBuffer> {
  if (!isPublicKey(key)) throw new TypeError('an ed25519 public key must start with "whpk_"');
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = decodeBase64(key.slice(PUBLIC_KEY_PREFIX.length).trim());
  } catch {
    throw new TypeError('an ed25519 public key must be base64 after "whpk_"');
  }
  if (bytes.length !== 32) throw new TypeError(`an ed25519 public key holds 32 bytes, this one ${bytes.length}`);
  return bytes;
}

/** A Web Crypto key for verifying, imported once per public key. */
export async function importPublicKey(bytes: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return subtleCrypto().importKey('raw', bytes, { name: 'Ed25519' }, false, ['verify']);
}

/** Whether `signature` (raw 64 bytes) is `key`'s ed25519 signature of `data`. */
export async function verifyEd25519(key: CryptoKey, signature: Uint8Array<ArrayBuffer>, data: Uint8Array<ArrayBuffer>): Promise<boolean> {
  return subtleCrypto().verify({ name: 'Ed25519' }, key, signature, data);
}
