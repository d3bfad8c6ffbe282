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
import { Worker } from './delivery/worker.js';
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
import { transformPoolFor } from './transform/pool.js';

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

/** The API could not listen where configured (the message says which setting to change). */
export class ListenError extends Error {}

export interface Roles {
  api: boolean;
  worker: boolean;
}

export interface Running {
  app: App | null;
  worker: Worker | null;
  retention: RetentionJob | null;
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
  const addressPolicy = new AddressPolicy({ allowPrivate: config.dev, allowSubnets: [...config.allowSubnets] });
  let worker: Worker | null = null;
  let retention: RetentionJob | null = null;
  const workerDb = roles.worker ? workerDatabase(config, logger, db) : db;
  // one set of transformation threads per process, shared by its worker and its API
  const transforms = transformPoolFor(config);
  // SSRF-safe for every endpoint; `herald listen` relay URLs minted by this deployment are the one exception (listen/relay-dispatcher.ts).
  const dispatcher = relayAwareDispatcher(createSafeDispatcher({ policy: addressPolicy, connections: 64 }), RelayUrls.from(secrets));
  if (roles.worker) {
    worker = new Worker({
      db: workerDb,
      dispatcher: dispatcher.dispatcher,
      logger,
      metrics,
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
      transforms,
    });
    await worker.start();
    retention = new RetentionJob(db, logger, {
      retentionSeconds: config.retentionSeconds,
      intervalSeconds: config.retentionIntervalSeconds,
      vacuum: config.retentionVacuum,
    });
    retention.start();
  }
  let app: App | null = null;
  let url: string | null = null;
  if (roles.api) {
    const { buildServer } = await import('./api/server.js');
    app = await buildServer({ db, config, logger, metrics, adminTokenHash, addressPolicy, secrets, localWorker: worker, transforms });
    try {
      url = await app.listen({ port: config.port, host: config.host });
    } catch (err) {
      // Give back what started (the worker's leases, the data directory's lock) before refusing.
      await app.close().catch(() => undefined);
      await retention?.stop();
      await worker?.stop();
      await transforms.close();
      await dispatcher.close().catch(() => undefined);
      if (config.databaseUrl && workerDb !== db) await workerDb.close();
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
    worker,
    retention,
    url,
    db,
    stop() {
      stopping ??= (async () => {
        await app?.close();
        await retention?.stop();
        await worker?.stop();
        await transforms.close();
        await dispatcher.close().catch(() => undefined);
        if (config.databaseUrl && workerDb !== db) await workerDb.close();
        await db.close();
      })();
      return stopping;
    },
  };
}
