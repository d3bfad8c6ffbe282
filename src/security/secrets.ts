import { randomBytes } from 'node:crypto';
import { standardKey } from '../delivery/signer.js';
import { generateSigningKey, isSigningKey, signingKeyProblem } from '../delivery/signing/ed25519.js';
import type { SignatureConfig } from '../delivery/types.js';

/**
 * A new endpoint secret for the scheme: `whsec_` + 32 random bytes in
 * base64 (Standard Webhooks allows 24–64) for the HMAC schemes, a `whsk_`
 * ed25519 key for `ed25519`.
 */
export function generateSecret(scheme: SignatureConfig['scheme'] = 'standard'): string {
  return scheme === 'ed25519' ? generateSigningKey() : 'whsec_' + randomBytes(32).toString('base64');
}

/** Whether a secret of one scheme can sign for another: a `whsk_` key signs only ed25519, an HMAC secret never does. */
export function sameSecretKind(a: SignatureConfig['scheme'], b: SignatureConfig['scheme']): boolean {
  return (a === 'ed25519') === (b === 'ed25519');
}

/**
 * Why a user-supplied secret is unacceptable, or null if it is fine. Any
 * secret must be 32+ characters, or a `whsec_` secret whose base64 holds at
 * least 24 bytes. The Standard Webhooks scheme also needs the secret to be
 * base64 (it is the HMAC key's encoding). The ed25519 scheme takes a
 * `whsk_` key and nothing else, and only it takes one.
 */
export function secretProblem(secret: string, scheme: SignatureConfig['scheme']): string | null {
  if (secret.length > 512) return 'must be at most 512 characters';
  if (/[\s\x00-\x1f\x7f]/.test(secret)) return 'must not contain whitespace or control characters';
  if (scheme === 'ed25519') return signingKeyProblem(secret);
  if (isSigningKey(secret)) return 'a whsk_ key signs only with the ed25519 scheme';
  if (secret.startsWith('whsec_')) {
    const b64 = secret.slice(6);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return 'a whsec_ secret must be base64 after the prefix';
    if (standardKey(secret).length < 24) return 'a whsec_ secret must hold at least 24 bytes';
    return null;
  }
  if (secret.length < 32) return 'must be at least 32 characters (or a whsec_ base64 secret of 24+ bytes)';
  if (scheme === 'standard' && !/^[A-Za-z0-9+/]+={0,2}$/.test(secret)) {
    return 'the standard scheme needs a whsec_ or base64 secret (its bytes are the HMAC key)';
  }
  return null;
}
