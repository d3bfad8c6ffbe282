import type { Db } from '../../db/db.js';
import type { SecretBox } from '../../security/secret-box.js';
import { openOld } from '../../store/endpoints.js';
import { openDestination, type SealedDestination } from '../../store/endpoint-destinations.js';
import type { OldSecret, RetryPolicy, SignatureConfig } from '../types.js';
import type { EndpointSettings } from './types.js';

interface SettingsRow {
  id: string;
  version: string;
  url: string;
  destination: SealedDestination | null;
  headers: Record<string, string>;
  signature: SignatureConfig;
  retry: RetryPolicy;
  timeout_ms: number;
  secret: string;
  old_secrets: OldSecret[];
  send_trace_context: boolean;
  transformation: string | null;
}

/**
 * A worker's copy of its endpoints' settings, keyed by their version
 * (`updated_at`, which every change of settings moves). A claim returns
 * each row's endpoint version; only an endpoint seen for the first time or
 * changed since is read again, and its secret decrypted once per version
 * instead of once per delivery (profiles of the earlier claim, which
 * returned every setting with every row: parsing three JSON columns and an
 * AES-GCM open per delivery).
 */
export class EndpointConfigs {
  private readonly cache = new Map<string, { version: string; settings: EndpointSettings }>();

  constructor(
    private readonly box: SecretBox,
    /** Endpoints kept at most; past that the cache starts afresh. (Default: 10000) */
    private readonly max = 10_000,
  ) {}

  /**
   * The settings of each endpoint in `states` at its version, read only
   * where this copy has not got that version. An endpoint deleted since it
   * was read has none.
   */
  async settingsOf(db: Db, states: Map<string, { version: string }>): Promise<Map<string, EndpointSettings>> {
    const out = new Map<string, EndpointSettings>();
    const missing = new Set<string>();
    for (const [id, { version }] of states) {
      const hit = this.cache.get(id);
      if (hit && hit.version === version) out.set(id, hit.settings);
      else missing.add(id);
    }
    if (missing.size === 0) return out;
    const res = await db.query<SettingsRow>(
      `select id, updated_at::text as version, url, destination, headers, signature, retry, timeout_ms, secret, old_secrets, send_trace_context, transformation
         from endpoints where id = any($1::text[])`,
      [[...missing]],
      'endpoint_settings',
    );
    if (this.cache.size + res.rows.length > this.max) this.cache.clear();
    for (const r of res.rows) {
      const settings: EndpointSettings = {
        url: r.url,
        destination: openDestination(r.destination, this.box),
        headers: r.headers,
        signature: r.signature,
        retry: r.retry,
        timeoutMs: r.timeout_ms,
        secret: this.box.open(r.secret),
        oldSecrets: openOld(r.old_secrets, this.box),
        sendTraceContext: r.send_trace_context,
        transformation: r.transformation,
      };
      this.cache.set(r.id, { version: r.version, settings });
      out.set(r.id, settings);
    }
    return out;
  }
}
