import type { Config } from '../config/config.js';
import { DEFAULT_RETRY } from '../delivery/schedule.js';
import type { RetryPolicy, SignatureConfig } from '../delivery/types.js';
import { checkUrl, type AddressPolicy } from '../security/address-policy.js';
import { secretProblem } from '../security/secrets.js';
import { errors } from '../errors.js';
import { FilterError, parseFilter, type FilterNode } from '../filters/parse-filter.js';
import type { EndpointFilter } from '../filters/endpoint-filter.js';
import type { EndpointCreateBody } from './schemas.js';

/** Headers Herald sets itself or that would break HTTP framing: never accepted as static headers. */
const RESERVED_HEADERS = new Set([
  'host', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer',
  'user-agent', 'webhook-id', 'webhook-timestamp', 'webhook-signature', 'proxy-authorization', 'expect',
  // set on broker messages (destinations other than HTTP)
  'webhook-event-type',
]);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Checks of endpoint settings that JSON Schema cannot express, shared by
 * endpoint routes and tenant endpoint defaults. Each throws a 400 naming
 * the field (under `prefix`, e.g. `settings.endpointDefaults.`).
 */
export class EndpointSettings {
  constructor(
    private readonly config: Config,
    private readonly policy: AddressPolicy,
  ) {}

  url(raw: string): string {
    const r = checkUrl(raw, { allowHttp: this.config.dev, policy: this.policy });
    if (!r.ok) throw errors.invalidField('url', r.reason);
    return r.url.toString();
  }

  headers(h: Record<string, string> | undefined, signature: SignatureConfig, prefix = ''): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(h ?? {})) {
      const lower = name.toLowerCase();
      const field = `${prefix}headers.${name}`;
      if (!TOKEN.test(name)) throw errors.invalidField(field, 'is not a valid header name');
      if (RESERVED_HEADERS.has(lower) || (signature.scheme === 'hmac-sha256' && lower === signature.header.toLowerCase())) {
        throw errors.invalidField(field, 'is set by Herald and cannot be overridden');
      }
      if (/[\r\n\0]/.test(value) || /[^\t\x20-\x7e\x80-\xff]/.test(value)) {
        throw errors.invalidField(field, 'holds characters not allowed in a header value');
      }
      out[lower] = value;
    }
    return out;
  }

  /**
   * The signature header may not be one Herald sets itself or one of HTTP's
   * framing: `host` forged the Host of every request, `content-length` or
   * `transfer-encoding` broke every delivery, `webhook-id` replaced the id.
   */
  signature(s: EndpointCreateBody['signature'], prefix = ''): SignatureConfig {
    if (!s || s.scheme === 'standard') return { scheme: 'standard' };
    if (s.scheme === 'ed25519') return { scheme: 'ed25519' };
    if (RESERVED_HEADERS.has(s.header.toLowerCase())) {
      throw errors.invalidField(`${prefix}signature.header`, `${s.header.toLowerCase()} is set by Herald or by HTTP itself; choose another name (e.g. X-Signature)`);
    }
    return { scheme: 'hmac-sha256', header: s.header, encoding: s.encoding ?? 'hex' };
  }

  retry(r: EndpointCreateBody['retry'], prefix = ''): RetryPolicy {
    if (!r) return DEFAULT_RETRY;
    if ('backoff' in r && r.maxSeconds < r.initialSeconds) throw errors.invalidField(`${prefix}retry.maxSeconds`, 'must be at least initialSeconds');
    return r;
  }

  timeout(ms: number | undefined, prefix = ''): number {
    const t = ms ?? this.config.defaultTimeoutMs;
    if (t > this.config.maxTimeoutMs) throw errors.invalidField(`${prefix}timeoutMs`, `must be at most ${this.config.maxTimeoutMs}`);
    return t;
  }

  /** A payload filter checked (400 naming the bad operator or path); an empty one is none. */
  filter(f: EndpointFilter | undefined, prefix = ''): EndpointFilter {
    const tree = this.filterTree(f ?? null, prefix);
    return tree ? f! : null;
  }

  /** The checked filter's tree, null for none. */
  filterTree(f: EndpointFilter, prefix = ''): FilterNode | null {
    try {
      return f === null ? null : parseFilter(f, `${prefix}filter`);
    } catch (err) {
      if (err instanceof FilterError) throw errors.invalidField(err.field, err.message);
      throw err;
    }
  }

  secret(secret: string, signature: SignatureConfig): string {
    const problem = secretProblem(secret, signature.scheme);
    if (problem) throw errors.invalidField('secret', problem);
    return secret;
  }
}
