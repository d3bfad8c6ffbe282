import { z } from 'zod';
import { AddressPolicy, checkUrl } from '../security/address-policy.js';

/**
 * Herald's configuration: defaults here, overlaid by environment variables,
 * then by command-line flags; validated once (errors name the bad key) and
 * frozen. Every key and its unit is listed in the README's configuration table.
 */
const ConfigSchema = z
  .object({
    /** TCP port of the API. (Default: 8080) */
    port: z.coerce.number().int().min(0).max(65535).default(8080),
    /** Interface the API binds to. (Default: 127.0.0.1) */
    host: z.string().min(1).default('127.0.0.1'),
    /** PostgreSQL server URL; when unset Herald uses the embedded database. */
    databaseUrl: z.string().url().optional(),
    /** Directory of the embedded database (PGlite). (Default: ./.herald/data) */
    dataDir: z.string().min(1).default('./.herald/data'),
    /** Token with every right. Generated and kept in the data directory in embedded mode when unset. */
    adminToken: z.string().min(24, 'must be at least 24 characters').optional(),
    /**
     * Keys that encrypt endpoint secrets at rest (AES-256-GCM): 32 bytes each, base64 or hex; the first
     * encrypts, all decrypt. Generated and kept in the data directory in embedded mode when unset.
     */
    secretKeys: z
      .array(z.string().refine((k) => /^[0-9a-fA-F]{64}$/.test(k.trim()) || Buffer.from(k.trim(), 'base64').length === 32, 'each key must be 32 bytes, base64 or hex'))
      .default([]),
    /** Allow http:// URLs and private/loopback addresses (local development only). */
    dev: z.boolean().default(false),
    /** CIDR subnets deliveries may reach even though they are private (e.g. "10.1.0.0/16"). */
    allowSubnets: z.array(z.string().min(1)).default([]),
    /** Deliveries in flight per worker process. (Default: 256) */
    workerConcurrency: z.coerce.number().int().min(1).max(10_000).default(256),
    /**
     * HTTP connections a worker process opens to one origin (scheme, host, port) at most; sends
     * past that wait for one of them, within their own timeout. (Default: 128)
     */
    connectionsPerOrigin: z.coerce.number().int().min(1).max(10_000).default(128),
    /** Deliveries in flight per endpoint per worker process. (Default: 32) */
    endpointConcurrency: z.coerce.number().int().min(1).max(10_000).default(32),
    /** Deliveries claimed per claim statement. (Default: 256) */
    claimBatchSize: z.coerce.number().int().min(1).max(1000).default(256),
    /** How long a claimed delivery belongs to its worker, in seconds. (Default: 60) */
    leaseSeconds: z.coerce.number().int().min(1).max(3600).default(60),
    /** Largest per-endpoint HTTP timeout allowed, in milliseconds. (Default: 30000) */
    maxTimeoutMs: z.coerce.number().int().min(100).max(300_000).default(30_000),
    /** HTTP timeout of endpoints that do not set one, in milliseconds. (Default: 10000) */
    defaultTimeoutMs: z.coerce.number().int().min(100).max(300_000).default(10_000),
    /** Fallback poll interval when no notification arrives, in milliseconds. (Default: 2000) */
    pollIntervalMs: z.coerce.number().int().min(10).max(60_000).default(2_000),
    /** Largest accepted request body, in bytes. (Default: 1048576) */
    maxBodyBytes: z.coerce.number().int().min(1024).max(100 * 1024 * 1024).default(1024 * 1024),
    /** Longest the schema validation of one publish may run, in milliseconds (422 above). (Default: 1000) */
    validationTimeoutMs: z.coerce.number().int().min(10).max(60_000).default(1_000),
    /** Longest one run of an endpoint's transformation may take, in milliseconds (a failed attempt above it). (Default: 50) */
    transformTimeoutMs: z.coerce.number().int().min(1).max(10_000).default(50),
    /** Memory one run of an endpoint's transformation may allocate in its sandbox, in megabytes. (Default: 16) */
    transformMemoryMb: z.coerce.number().int().min(2).max(1024).default(16),
    /** Threads that run transformations in each process (started on first use). (Default: 1) */
    transformThreads: z.coerce.number().int().min(1).max(64).default(1),
    /** Transformations waiting for a thread at most; a delivery past it fails its attempt (`transformation_busy`) and is retried. (Default: 1000) */
    transformQueueLimit: z.coerce.number().int().min(1).max(1_000_000).default(1_000),
    /** Bytes of a receiver's response body kept with each attempt. (Default: 65536) */
    responseBodyCapBytes: z.coerce.number().int().min(0).max(10 * 1024 * 1024).default(64 * 1024),
    /**
     * V8's old-generation growing factor in worker processes (`worker`, `serve`), as a percentage over
     * the live heap after a full GC; 0 leaves V8's own choice (up to 4x). (Default: 25 for `worker`, 50 for `serve`)
     */
    workerHeapGrowingPercent: z.coerce.number().int().min(0).max(1000).optional(),
    /**
     * `serve` on PostgreSQL runs its worker in a thread of its own, so the API and the deliveries each
     * have an event loop and a heap (delivery/threaded-worker.ts). The embedded database always shares
     * one thread. Off by default: on a 2-core machine that PostgreSQL shares, it delivered no more and
     * took ~50 MB more RSS (docs/benchmarks.md). (Default: false)
     */
    workerThread: z.boolean().default(false),
    /** Upper bound on a delay asked for by `Retry-After`, in seconds. (Default: 3600) */
    retryAfterMaxSeconds: z.coerce.number().int().min(0).max(7 * 24 * 3600).default(3600),
    /** Time allowed for in-flight deliveries to finish on SIGTERM, in milliseconds. (Default: 10000) */
    shutdownTimeoutMs: z.coerce.number().int().min(0).max(600_000).default(10_000),
    /** Consecutive failed attempts that open an endpoint's circuit (pause it); 0 = never. (Default: 20) */
    circuitBreakerFailures: z.coerce.number().int().min(0).max(1_000_000).default(20),
    /** How long an open circuit pauses an endpoint, in seconds. (Default: 30) */
    circuitBreakerCooldownSeconds: z.coerce.number().int().min(1).max(86_400).default(30),
    /** Consecutive failed attempts that disable an endpoint; 0 = never. (Default: 0) */
    endpointDisableAfterFailures: z.coerce.number().int().min(0).max(1_000_000).default(0),
    /** Seconds of nothing but failures that disable an endpoint; 0 = never. (Default: 432000, 5 days) */
    endpointDisableAfterSeconds: z.coerce.number().int().min(0).max(365 * 86_400).default(5 * 86_400),
    /** Age after which events (with their deliveries and attempts) and audit entries are deleted, in seconds; 0 = keep forever. (Default: 2592000, 30 days) */
    retentionSeconds: z.coerce.number().int().min(0).default(30 * 86_400),
    /** How often a worker applies retention, in seconds. (Default: 300) */
    retentionIntervalSeconds: z.coerce.number().int().min(1).max(86_400).default(300),
    /**
     * VACUUM the tables retention deleted from after each pass: `auto` = only when autovacuum does not run
     * (switched off on the server or the tables, or the embedded database), `always`, or `never`. (Default: auto)
     */
    retentionVacuum: z.enum(['auto', 'always', 'never']).default('auto'),
    /** API requests per second allowed per token (429 with Retry-After above it); 0 = no limit. (Default: 1000) */
    apiRateLimitPerSecond: z.coerce.number().int().min(0).max(10_000_000).default(1_000),
    /**
     * How long a `herald listen` session outlives its connection, in seconds: the CLI coming back within it
     * resumes the same temporary endpoint and secret; after it the endpoint is disabled. (Default: 300)
     */
    listenGraceSeconds: z.coerce.number().int().min(1).max(7 * 86_400).default(300),
    /**
     * Origin at which workers reach this API process for `herald listen` relays (e.g. http://10.0.0.5:8080).
     * (Default: the address the API listens on, with 127.0.0.1 for 0.0.0.0 and [::1] for ::)
     */
    listenRelayUrl: z
      .string()
      .url()
      .refine((u) => /^https?:$/.test(new URL(u).protocol) && new URL(u).pathname === '/' && !new URL(u).search, 'must be an http(s) origin without a path, e.g. http://10.0.0.5:8080')
      .optional(),
    /**
     * Where operator alerts go: a Slack-compatible incoming webhook (`{"text", "blocks"}`) told when an
     * endpoint starts failing, is disabled, or recovers. Unset = no alerts. Outside dev mode it must be
     * https and not a private address, like endpoint URLs (checked again on the address connected to).
     */
    alertWebhookUrl: z.string().min(1).optional(),
    /** Consecutive failed attempts after which an endpoint counts as failing for alerts (an open circuit always does). (Default: 5) */
    alertAfterFailures: z.coerce.number().int().min(1).max(1_000_000).default(5),
    /** How often a worker compares endpoint states with what was announced, and sends at most one message, in seconds. (Default: 30) */
    alertIntervalSeconds: z.coerce.number().int().min(1).max(3600).default(30),
    /** How long one alert POST may take before it counts as failed and is tried again later, in milliseconds. (Default: 5000) */
    alertTimeoutMs: z.coerce.number().int().min(100).max(60_000).default(5_000),
    /** pino log level. (Default: info) */
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .superRefine((c, ctx) => {
    // A lease shorter than a send (plus time to record it) lets a second
    // worker claim a delivery that is still being sent: duplicate deliveries
    // in parallel (Svix PR #2181). Refuse a lease that is not comfortably
    // longer than the longest HTTP timeout: 1.5x, and at least 5 s more.
    const needed = Math.ceil(Math.max(c.maxTimeoutMs * 1.5, c.maxTimeoutMs + 5_000) / 1000);
    if (c.leaseSeconds < needed) {
      ctx.addIssue({
        code: 'custom',
        path: ['leaseSeconds'],
        message: `must be at least ${needed} s: comfortably longer than the longest HTTP timeout (maxTimeoutMs = ${c.maxTimeoutMs} ms)`,
      });
    }
    if (c.alertWebhookUrl !== undefined) {
      const problem = alertUrlProblem(c.alertWebhookUrl, c.dev, c.allowSubnets);
      if (problem) ctx.addIssue({ code: 'custom', path: ['alertWebhookUrl'], message: problem });
    }
    if (c.defaultTimeoutMs > c.maxTimeoutMs) {
      ctx.addIssue({ code: 'custom', path: ['defaultTimeoutMs'], message: 'must not exceed maxTimeoutMs' });
    }
  });

/** Why the alert URL may not be used (the same rules as an endpoint URL), or null. */
function alertUrlProblem(url: string, dev: boolean, allowSubnets: string[]): string | null {
  let policy: AddressPolicy;
  try {
    policy = new AddressPolicy({ allowPrivate: dev, allowSubnets });
  } catch {
    return null; // the bad subnet is reported by the code that builds the policy at start
  }
  const r = checkUrl(url, { allowHttp: dev, policy });
  return r.ok ? null : `${r.reason} (outside dev mode alerts go only to https and public addresses, like endpoint URLs)`;
}

export type Config = Readonly<z.infer<typeof ConfigSchema>>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/** Environment variable of each key. */
export const ENV_KEYS: Record<keyof ConfigInput, string> = {
  port: 'PORT',
  host: 'HERALD_HOST',
  databaseUrl: 'DATABASE_URL',
  dataDir: 'HERALD_DATA_DIR',
  adminToken: 'HERALD_ADMIN_TOKEN',
  secretKeys: 'HERALD_SECRET_KEYS',
  dev: 'HERALD_DEV',
  allowSubnets: 'HERALD_ALLOW_SUBNETS',
  workerConcurrency: 'HERALD_WORKER_CONCURRENCY',
  endpointConcurrency: 'HERALD_ENDPOINT_CONCURRENCY',
  connectionsPerOrigin: 'HERALD_CONNECTIONS_PER_ORIGIN',
  claimBatchSize: 'HERALD_CLAIM_BATCH_SIZE',
  leaseSeconds: 'HERALD_LEASE_SECONDS',
  maxTimeoutMs: 'HERALD_MAX_TIMEOUT_MS',
  defaultTimeoutMs: 'HERALD_DEFAULT_TIMEOUT_MS',
  pollIntervalMs: 'HERALD_POLL_INTERVAL_MS',
  maxBodyBytes: 'HERALD_MAX_BODY_BYTES',
  responseBodyCapBytes: 'HERALD_RESPONSE_BODY_CAP_BYTES',
  transformTimeoutMs: 'HERALD_TRANSFORM_TIMEOUT_MS',
  transformMemoryMb: 'HERALD_TRANSFORM_MEMORY_MB',
  transformThreads: 'HERALD_TRANSFORM_THREADS',
  transformQueueLimit: 'HERALD_TRANSFORM_QUEUE_LIMIT',
  validationTimeoutMs: 'HERALD_VALIDATION_TIMEOUT_MS',
  workerHeapGrowingPercent: 'HERALD_WORKER_HEAP_GROWING_PERCENT',
  workerThread: 'HERALD_WORKER_THREAD',
  retryAfterMaxSeconds: 'HERALD_RETRY_AFTER_MAX_SECONDS',
  shutdownTimeoutMs: 'HERALD_SHUTDOWN_TIMEOUT_MS',
  circuitBreakerFailures: 'HERALD_CIRCUIT_BREAKER_FAILURES',
  circuitBreakerCooldownSeconds: 'HERALD_CIRCUIT_BREAKER_COOLDOWN_SECONDS',
  endpointDisableAfterFailures: 'HERALD_ENDPOINT_DISABLE_AFTER_FAILURES',
  endpointDisableAfterSeconds: 'HERALD_ENDPOINT_DISABLE_AFTER_SECONDS',
  retentionSeconds: 'HERALD_RETENTION_SECONDS',
  retentionIntervalSeconds: 'HERALD_RETENTION_INTERVAL_SECONDS',
  retentionVacuum: 'HERALD_RETENTION_VACUUM',
  apiRateLimitPerSecond: 'HERALD_API_RATE_LIMIT_PER_SECOND',
  listenGraceSeconds: 'HERALD_LISTEN_GRACE_SECONDS',
  listenRelayUrl: 'HERALD_LISTEN_RELAY_URL',
  alertWebhookUrl: 'HERALD_ALERT_WEBHOOK_URL',
  alertAfterFailures: 'HERALD_ALERT_AFTER_FAILURES',
  alertIntervalSeconds: 'HERALD_ALERT_INTERVAL_SECONDS',
  alertTimeoutMs: 'HERALD_ALERT_TIMEOUT_MS',
  logLevel: 'HERALD_LOG_LEVEL',
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function fromEnv(env: NodeJS.ProcessEnv): Partial<Record<keyof ConfigInput, unknown>> {
  const out: Partial<Record<keyof ConfigInput, unknown>> = {};
  for (const [key, name] of Object.entries(ENV_KEYS) as [keyof ConfigInput, string][]) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    if (key === 'dev' || key === 'workerThread') out[key] = /^(1|true|yes|on)$/i.test(raw);
    else if (key === 'allowSubnets' || key === 'secretKeys') out[key] = raw.split(',').map((s) => s.trim()).filter(Boolean);
    else out[key] = raw;
  }
  return out;
}

/**
 * Builds the configuration from defaults, `env` and `overrides` (flags),
 * in that order. Throws a ConfigError naming every bad key.
 */
export function loadConfig(overrides: Partial<ConfigInput> = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const result = ConfigSchema.safeParse({ ...fromEnv(env), ...defined });
  if (!result.success) {
    const lines = result.error.issues.map((i) => {
      const key = String(i.path[0] ?? '');
      const envName = ENV_KEYS[key as keyof ConfigInput];
      return `  ${key}${envName ? ` (${envName})` : ''}: ${i.message}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return Object.freeze({
    ...result.data,
    allowSubnets: Object.freeze([...result.data.allowSubnets]) as string[],
    secretKeys: Object.freeze([...result.data.secretKeys]) as string[],
  });
}
