import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A new API token: `hrl_` + 32 random bytes (base64url). */
export function generateToken(): string {
  return 'hrl_' + randomBytes(32).toString('base64url');
}

/**
 * SHA-256 of a token, hex. Tokens are 256-bit random values, so a fast hash
 * is as good as a slow one here (there is nothing to brute-force) and keeps
 * every API call cheap. Only this hash is stored.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Constant-time comparison of two token hashes. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}
