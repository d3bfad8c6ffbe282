import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SecretBox } from '../security/secret-box.js';

/** Path prefix of the relay route (outside /v1: the worker calls it without an API token). */
export const RELAY_PREFIX = '/listen-relay/';

/** What the relay MACs are derived under (SecretBox.derivedKeys). */
const LABEL = 'herald listen relay url v1';

const RELAY_PATH = /^\/listen-relay\/([A-Za-z0-9_-]{1,128})\/([A-Za-z0-9_-]{43})$/;

/**
 * The URLs of `herald listen` relays, minted and recognised.
 *
 * A listen session's temporary endpoint points at Herald's own relay route,
 * usually on a loopback or private address that the SSRF policy refuses.
 * The worker may skip the policy for exactly the URLs minted here: the path
 * carries an HMAC of the origin and the session id under a key derived from
 * the secret keys (so API and worker processes agree without a key of their
 * own). A user who copies a relay URL into an endpoint of their own gets the
 * same request to the same relay route, which refuses it (wrong signature);
 * a user cannot make a URL for another origin.
 */
export class RelayUrls {
  constructor(
    /** MAC keys, the current one first; every one is accepted, so a key rotation keeps old sessions working. */
    private readonly keys: readonly Buffer[],
  ) {
    if (keys.length === 0) throw new Error('relay URLs need at least one key');
  }

  static from(box: SecretBox): RelayUrls {
    return new RelayUrls(box.derivedKeys(LABEL));
  }

  /** The relay URL of `sessionId` at `base` (an origin such as http://127.0.0.1:8080). */
  mint(base: string, sessionId: string): string {
    const origin = new URL(base).origin;
    return `${origin}${RELAY_PREFIX}${sessionId}/${mac(this.keys[0]!, origin, sessionId).toString('base64url')}`;
  }

  /** True when `origin` + `path` (as undici dispatches them) is a URL minted by `mint`. */
  isMinted(origin: string, path: string): boolean {
    if (!path.startsWith(RELAY_PREFIX)) return false;
    const m = RELAY_PATH.exec(path);
    if (!m) return false;
    const given = Buffer.from(m[2]!, 'base64url');
    return this.keys.some((k) => {
      const want = mac(k, origin, m[1]!);
      return want.length === given.length && timingSafeEqual(want, given);
    });
  }
}

function mac(key: Buffer, origin: string, sessionId: string): Buffer {
  return createHmac('sha256', key).update(`${origin}\n${sessionId}`).digest();
}
