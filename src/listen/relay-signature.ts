import { timingSafeEqual } from 'node:crypto';
import { signStandard, standardKey } from '../delivery/signer.js';

/** How far a relayed request's `webhook-timestamp` may be from now, in seconds (Standard Webhooks' tolerance). */
export const RELAY_TOLERANCE_SECONDS = 300;

/**
 * True when a request to a session's relay is signed with one of the
 * session endpoint's secrets (Standard Webhooks, as the worker signs it)
 * and recent. This is how the relay route knows the request is Herald's
 * own worker delivering to that endpoint: nobody else holds the secret.
 */
export function signedByEndpoint(headers: Record<string, string | string[] | undefined>, body: string, secrets: readonly string[], now = Date.now()): boolean {
  const id = one(headers['webhook-id']);
  const timestamp = Number(one(headers['webhook-timestamp']));
  const signatures = one(headers['webhook-signature']);
  if (!id || !signatures || !Number.isSafeInteger(timestamp)) return false;
  if (Math.abs(now / 1000 - timestamp) > RELAY_TOLERANCE_SECONDS) return false;
  const given = signatures.split(' ').map((s) => Buffer.from(s));
  return secrets.some((secret) => {
    const want = Buffer.from(signStandard(standardKey(secret), id, timestamp, body));
    return given.some((g) => g.length === want.length && timingSafeEqual(g, want));
  });
}

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
