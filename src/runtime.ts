import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Config } from './config/config.js';
import type { Db } from './db/db.js';
import { DataDirLock } from './db/data-dir-lock.js';
import { LockedDb } from './db/locked-db.js';
import { migrate } from './db/migrate.js';
import { HotPathDb, hotPathOptions } from './db/hot-path.js';
import { PgDb } from './db/pg.js';
// PGlite and the API server are imported only by the processes that use
// them: a `herald worker` on PostgreSQL loads neither (about 35 MB of RSS).
import type { App } from './api/server.js';
import { RetentionJob } from './delivery/retention-job.js';
import { AlertMonitor } from './alerts/alert-monitor.js';
import { Worker } from './delivery/worker.js';
import { ThreadedWorker } from './delivery/threaded-worker.js';
import type { Logger } from './logger.js';
import { Metrics } from './metrics.js';
import { AddressPolicy } from './security/address-policy.js';
import { createSafeDispatcher } from './security/safe-lookup.js';
import { relayAwareDispatcher } from './listen/relay-dispatcher.js';
import { RelayUrls } from './listen/relay-urls.js';
import { SecretBox } from './security/secret-box.js';
import { resolveSecretKeys } from './security/key-files.js';
export { resolveAdminToken } from './security/key-files.js';
import { VERSION } from './version.js';
import { startTelemetry, telemetryWanted, type AttemptTracing } from './telemetry/telemetry.js';
import { transformPoolFor, type TransformPool } from './transform/pool.js';

/**
 * The database: a PostgreSQL pool, or the embedded PGlite in the data
 * directory, which this process then holds alone until it closes the
 * database (data-dir-lock.ts).
 */
export async function openDb(config: Config, logger: Logger): Promise<Db> {
  if (config.databaseUrl) return new PgDb({ connectionString: config.databaseUrl, logger });
  const dir = resolve(config.dataDir);
  await mkdir(dir, { recursive: true });
  const lock = await DataDirLock.acquire(dir);
  try {
    const { PgliteDb } = await import('./db/pglite.js');
    return new LockedDb(await PgliteDb.open(dir), lock);
  } catch (err) {
    await lock.release();
    throw err;
  }
}

/** The keys that encrypt endpoint secrets, checked against what the database holds (security/key-files.ts). */
export async function secretBoxFor(config: Config, db: Db, logger: Logger): Promise<SecretBox> {
  return new SecretBox(await resolveSecretKeys(config, db, logger));
}

/**
 * The worker's own connections, with the planner settings of its hot path
 * (db/hot-path.ts) and commits that do not wait for the WAL flush: a claim
 * or an outcome lost in a database crash means the lease runs out and the
 * same webhook-id is sent again (at-least-once). Publishing never shares
 * them: its 202 promises the event is durable. On PGlite (one connection,
 * no fsync) the settings are applied per statement instead.
 */
function workerDatabase(config: Config, logger: Logger, db: Db): Db {
  if (!config.databaseUrl) return new HotPathDb(db);
  return new PgDb({ connectionString: config.databaseUrl, logger, options: hotPathOptions({ synchronous_commit: 'off' }) });
}

/** Where deliveries (and the API's URL checks) may go: public addresses, or private ones in dev mode and the allowed subnets. */
export const addressPolicyOf = (config: Config): AddressPolicy =>
  new AddressPolicy({ allowPrivate: config.dev, allowSubnets: [...config.allowSubnets] });

/**
 * Whether the worker runs in a thread of its own: `serve` on PostgreSQL when
 * configured (see ThreadedWorker), and not while OpenTelemetry exports (the
 * attempt spans are made by the worker, and the SDK lives on the API's thread).
 */
export const workerHasThread = (config: Config, roles: Roles, env: NodeJS.ProcessEnv = process.env): boolean =>
  roles.api && roles.worker && config.workerThread && !!config.databaseUrl && !telemetryWanted(env);

/** A started worker, with its connections and HTTP dispatcher; `close` stops it and gives them back. */
export interface StartedWorker {
  worker: Worker;
  close(): Promise<void>;
}

/**
 * Starts a worker over `db` (its own pool on PostgreSQL): what `herald
 * worker` runs, and `serve` on this thread or in a worker thread.
 */
export async function startWorker(o: {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  db: Db;
  secrets: SecretBox;
  onRoomChanged?: () => void;
  /** Runs endpoints' transformations: one set of threads per process, shared by its worker and its API. */
  transforms: TransformPool;
  /** OpenTelemetry's span per attempt, over the worker's connections (telemetry/). */
  tracing?: (workerDb: Db) => AttemptTracing | null;
}): Promise<StartedWorker> {
  const { config, logger, db, secrets } = o;
  const workerDb = workerDatabase(config, logger, db);
  // SSRF-safe for every endpoint; `herald listen` relay URLs minted by this deployment are the one exception (listen/relay-dispatcher.ts).
  const addressPolicy = addressPolicyOf(config);
  // HERALD_CONNECTIONS_PER_ORIGIN connections to one origin at most (128 by default): a connection
  // for every send the worker can have open (twice its slots) made twice the garbage per delivery
  // (OriginConnections, sender.ts). A send past them waits for one within its own timeout; one that
  // got none in time is recorded as no_connection and is not counted against its endpoint (an
  // origin shared by many endpoints, or requests held by a silent receiver, are not its fault).
  const dispatcher = relayAwareDispatcher(
    createSafeDispatcher({ policy: addressPolicy, connections: config.connectionsPerOrigin }),
    RelayUrls.from(secrets),
  );
  const worker = new Worker({
    db: workerDb,
    dispatcher: dispatcher.dispatcher,
    connectionsPerOrigin: config.connectionsPerOrigin,
    logger,
    metrics: o.metrics,
    concurrency: config.workerConcurrency,
    endpointConcurrency: config.endpointConcurrency,
    claimBatchSize: config.claimBatchSize,
    leaseSeconds: config.leaseSeconds,
    pollIntervalMs: config.pollIntervalMs,
    responseBodyCapBytes: config.responseBodyCapBytes,
    retryAfterMaxSeconds: config.retryAfterMaxSeconds,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    userAgent: `Herald/${VERSION}`,
    health: {
      circuitBreakerFailures: config.circuitBreakerFailures,
      circuitBreakerCooldownSeconds: config.circuitBreakerCooldownSeconds,
      disableAfterFailures: config.endpointDisableAfterFailures,
      disableAfterSeconds: config.endpointDisableAfterSeconds,
    },
    secrets,
    addressPolicy,
    onRoomChanged: o.onRoomChanged,
    transforms: o.transforms,
    tracing: o.tracing?.(workerDb) ?? null,
  });
  const close = async () => {
    await worker.stop();
    await dispatcher.close().catch(() => undefined);
    // on PostgreSQL the worker's own pool; on PGlite a wrapper of the one database, which others still use
    if (config.databaseUrl) await workerDb.close();
  };
  try {
    await worker.start();
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  return { worker, close };
}

/**
 * The alert monitor, when an alert URL is configured: its own two
 * connections (never the deliveries' pool), under the same address policy.
 */
function startAlerts(config: Config, db: Db, logger: Logger, policy: AddressPolicy): { monitor: AlertMonitor; close(): Promise<void> } | null {
  if (!config.alertWebhookUrl) return null;
  const dispatcher = createSafeDispatcher({ policy, connections: 2 });
  const monitor = new AlertMonitor({
    db,
    logger,
    dispatcher,
    url: config.alertWebhookUrl,
    afterFailures: config.alertAfterFailures,
    intervalSeconds: config.alertIntervalSeconds,
    timeoutMs: config.alertTimeoutMs,
    userAgent: `Herald/${VERSION} alerts`,
  });
  monitor.start();
  return {
    monitor,
    async close() {
      await monitor.stop();
      await dispatcher.close().catch(() => undefined);
    },
  };
}

/** The API could not listen where configured (the message says which setting to change). */
export class ListenError extends Error {}

export interface Roles {
  api: boolean;
  worker: boolean;
}

export interface Running {
  app: App | null;
  /** The worker, when it runs on this thread. */
  worker: Worker | null;
  /** The worker, when it runs in a thread of its own (serve on PostgreSQL). */
  workerThread: ThreadedWorker | null;
  retention: RetentionJob | null;
  /** Operator alerts (in worker processes, when HERALD_ALERT_WEBHOOK_URL is set). */
  alerts: AlertMonitor | null;
  url: string | null;
  db: Db;
  stop(): Promise<void>;
}

/** Starts the API and/or a worker over one database, as the CLI and the tests do. */
export async function start(config: Config, logger: Logger, roles: Roles, adminTokenHash: string): Promise<Running> {
  const db = await openDb(config, logger);
  let secrets: SecretBox;
  try {
    await migrate(db);
    secrets = await secretBoxFor(config, db, logger);
  } catch (err) {
    await db.close();
    throw err;
  }
  const metrics = new Metrics();
  // OpenTelemetry (OTLP) only when OTEL_EXPORTER_OTLP_ENDPOINT is set: otherwise null and no SDK is loaded
  const telemetry = await startTelemetry(process.env, metrics, logger);
  const addressPolicy = addressPolicyOf(config);
  // one set of transformation threads per process, shared by its worker and its API
  const transforms = transformPoolFor(config);
  let worker: StartedWorker | null = null;
  let threaded: ThreadedWorker | null = null;
  let retention: RetentionJob | null = null;
  let alerts: { monitor: AlertMonitor; close(): Promise<void> } | null = null;
  if (roles.worker) {
    // serve on PostgreSQL: the worker gets a thread (event loop, heap) of its own
    if (telemetry && workerHasThread(config, roles, {})) logger.warn('HERALD_WORKER_THREAD is ignored while OpenTelemetry exports traces: the worker runs on the API thread');
    if (workerHasThread(config, roles)) threaded = await ThreadedWorker.start(config, logger, metrics);
    else worker = await startWorker({ config, logger, metrics, db, secrets, transforms, tracing: (workerDb) => telemetry?.attemptTracing(workerDb) ?? null });
    retention = new RetentionJob(db, logger, {
      retentionSeconds: config.retentionSeconds,
      intervalSeconds: config.retentionIntervalSeconds,
      vacuum: config.retentionVacuum,
    });
    retention.start();
    alerts = startAlerts(config, db, logger, addressPolicy);
  }
  // everything but the API and the database: retention, alerts, the worker (or its thread), transformations, telemetry
  const stopBackground = async () => {
    await retention?.stop();
    await alerts?.close();
    await worker?.close();
    await threaded?.stop();
    await transforms.close();
    // the spans of the sends the worker finished while stopping, and a last round of metrics, read
    // while the database is still open (the queue gauges query it)
    await telemetry?.shutdown();
  };
  let app: App | null = null;
  let url: string | null = null;
  if (roles.api) {
    const { buildServer } = await import('./api/server.js');
    app = await buildServer({ db, config, logger, metrics, adminTokenHash, addressPolicy, secrets, localWorker: worker?.worker ?? threaded, telemetry, transforms });
    try {
      url = await app.listen({ port: config.port, host: config.host });
    } catch (err) {
      // Give back what started (the worker's leases, the data directory's lock) before refusing.
      await app.close().catch(() => undefined);
      await stopBackground();
      await db.close();
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new ListenError(`port ${config.port} is in use; set PORT (or --port) to a free one (listening on ${config.host})`, { cause: err });
      if (code === 'EADDRNOTAVAIL' || code === 'EACCES') throw new ListenError(`cannot listen on ${config.host}:${config.port} (${code}); check HERALD_HOST and PORT`, { cause: err });
      throw err;
    }
  }
  let stopping: Promise<void> | null = null;
  return {
    app,
    worker: worker?.worker ?? null,
    workerThread: threaded,
    retention,
    alerts: alerts?.monitor ?? null,
    url,
    db,
    stop() {
      stopping ??= (async () => {
        await app?.close();
        await stopBackground();
        await db.close();
      })();
      return stopping;
    },
  };
}
