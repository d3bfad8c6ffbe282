import v8 from 'node:v8';
import { ConfigError, loadConfig, type Config, type ConfigInput } from '../config/config.js';
import { migrate } from '../db/migrate.js';
import { createLogger } from '../logger.js';
import { DataDirInUseError } from '../db/data-dir-lock.js';
import { ListenError, openDb, resolveAdminToken, secretBoxFor, start, workerHasThread, type Roles } from '../runtime.js';
import { KeyFileError } from '../security/key-files.js';
import { CliError, EXIT } from './exit-codes.js';
import { resealSecrets } from '../store/endpoints.js';
import { VERSION } from '../version.js';
import { Progress } from './progress.js';
import { HeapGrowth } from '../delivery/heap-growth.js';
import { keptResponseBytes } from '../delivery/sender.js';

export interface ServeFlags {
  port?: string;
  host?: string;
  dev?: boolean;
  databaseUrl?: string;
  dataDir?: string;
}

function configFrom(flags: ServeFlags, embeddedDevDefault: boolean): Config {
  const overrides: Partial<ConfigInput> = {
    port: flags.port === undefined ? undefined : Number(flags.port),
    host: flags.host,
    databaseUrl: flags.databaseUrl,
    dataDir: flags.dataDir,
    dev: flags.dev,
  };
  // `--dev` is on by default only when serving on the embedded database
  // (the `npm start` first run); HERALD_DEV=0 turns it off there too.
  const embedded = !(flags.databaseUrl ?? process.env.DATABASE_URL);
  if (embeddedDevDefault && embedded && flags.dev === undefined && !process.env.HERALD_DEV) overrides.dev = true;
  return loadConfig(overrides);
}

/**
 * Lets V8's old generation grow by a set percent over the live heap between
 * full GCs instead of its default of up to 4x (on a machine with more than
 * ~8 GB, where the heap limit is 2 GB or more).
 *
 * Why: every delivery's response body (up to the 64 KiB cap) and outcome
 * live until the batched write of the outcome, long enough to be promoted;
 * so a busy worker promotes tens of MB/s that die soon after. With a ~30 MB
 * live heap V8 let the old space reach ~100 MB of mostly garbage before the
 * next full GC (`--trace-gc`: 97 -> 27 MB), so a worker answered with 16 MB
 * bodies peaked at 219-238 MB RSS. Measured with the bench's memory
 * scenario (3 runs each, 5,000 deliveries): 0 (V8's choice) 219-238 MB,
 * 100 % 166-187 MB, 50 % 156-168 MB, 25 % 152-165 MB.
 *
 * The percent follows the answers (delivery/heap-growth.ts): lean while
 * answers are big (25, or 50 in `serve`, where the API's garbage shares the
 * heap: 25 cost it ~10 % more CPU per delivery than 50), 100 once they have
 * been small for a while, where the full GCs a lean setting forces cost
 * deliveries and save little memory. HERALD_WORKER_HEAP_GROWING_PERCENT
 * fixes it (0: V8's own choice); a `--heap-growing-percent` given to node
 * itself wins. A worker in a thread of its own (HERALD_WORKER_THREAD) keeps
 * 25: its answers are not seen from here.
 *
 * Rejected: `--max-old-space-size` shrinks the growing factor too (V8 scales
 * it with the limit) but is a hard ceiling, and a worker's live heap scales
 * with concurrency × payload size (256 × 1 MB by default), so any low value
 * risks an out-of-memory crash; a smaller semi-space must be given on the
 * node command line, and gave less.
 */
function tuneWorkerHeap(config: Config, roles: Roles): void {
  if (process.execArgv.some((a) => a.startsWith('--heap-growing-percent') || a.startsWith('--heap_growing_percent'))) return;
  const fixed = config.workerHeapGrowingPercent ?? (workerHasThread(config, roles) ? 25 : null);
  if (fixed !== null) {
    if (fixed > 0) v8.setFlagsFromString(`--heap-growing-percent=${fixed}`);
    return;
  }
  new HeapGrowth({ lean: roles.api ? 50 : 25, roomy: 100, keptBytes: keptResponseBytes }).start();
}

async function runServer(roles: Roles, flags: ServeFlags): Promise<void> {
  const config = configFrom(flags, roles.api && roles.worker);
  if (roles.worker) tuneWorkerHeap(config, roles);
  const logger = createLogger(config.logLevel);
  const admin = await resolveAdminToken(config);
  const running = await start(config, logger, roles, admin.hash);
  const lines = [`Herald ${VERSION} (${roles.api && roles.worker ? 'api + worker' : roles.api ? 'api' : 'worker'})`];
  lines.push(`  database: ${config.databaseUrl ? redact(config.databaseUrl) : `embedded (PGlite) in ${config.dataDir}`}`);
  if (running.url) lines.push(`  listening: ${running.url}`, `  dashboard: ${running.url}/ (sign in with the admin token)`, `  openapi:   ${running.url}/openapi.json`, `  api docs:  ${running.url}/docs`);
  if (running.url && admin.token && !config.databaseUrl) lines.push(`  admin token: ${admin.token}${admin.generated ? ' (generated; kept in the data directory)' : ''}`);
  if (config.dev) {
    lines.push('', '  !!! DEV MODE: deliveries may go to http:// and private/loopback addresses.', '  !!! Never run like this in production (set HERALD_DEV=0).');
  }

  let signalled = false;
  const shutdown = (signal: string) => {
    if (signalled) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    signalled = true;
    logger.info({ signal }, 'shutting down: no new claims, finishing in-flight deliveries');
    running.stop().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // a worker thread that ends on its own (a crash) takes the process down, for its supervisor to restart it
  void running.workerThread?.exited.then((code) => {
    if (signalled) return;
    logger.fatal({ code }, 'the worker thread ended; exiting');
    void running.stop().finally(() => process.exit(1));
  });
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // the banner last: whoever waits for it (a supervisor, a test) may stop the process at once, and the handlers are in place
  process.stdout.write(lines.join('\n') + '\n');
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid url)';
  }
}

/** `herald migrate`: applies the migrations, with a progress bar on a terminal. */
async function migrateDatabase(flags: ServeFlags): Promise<void> {
  const config = configFrom(flags, false);
  const db = await openDb(config, createLogger(config.logLevel));
  const progress = new Progress('migrating', null);
  try {
    const { applied } = await migrate(db, (_done, total) => {
      progress.setTotal(total);
      progress.tick();
    });
    progress.finish();
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
  } finally {
    await db.close();
  }
}

/** `herald rotate-secrets-key`: re-encrypts every endpoint secret with the current key. */
async function rotateSecretsKey(flags: ServeFlags): Promise<void> {
  const config = configFrom(flags, false);
  const db = await openDb(config, createLogger(config.logLevel));
  try {
    await migrate(db);
    const box = await secretBoxFor(config, db, createLogger(config.logLevel));
    // The number of endpoints is not asked first: the bar counts endpoints looked at, with their rate.
    const progress = new Progress('endpoints looked at', null);
    let after: string | null = null;
    let rewritten = 0;
    do {
      const page: { lastId: string | null; rewritten: number; seen: number } = await db.transaction((tx) => resealSecrets(tx, box, after, 500));
      after = page.lastId;
      rewritten += page.rewritten;
      progress.tick(page.seen);
    } while (after);
    progress.finish();
    process.stdout.write(`done: ${rewritten} endpoint(s) now use key ${box.currentKeyId}; the old keys may be removed from HERALD_SECRET_KEYS\n`);
  } finally {
    await db.close();
  }
}

/** Refusals that say what to do, as one-line CLI errors: bad configuration exits 2, the others 1. */
async function oneLine(work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT.usage, { cause: err });
    if (err instanceof DataDirInUseError || err instanceof KeyFileError || err instanceof ListenError) throw new CliError(err.message, EXIT.failure, { cause: err });
    throw err;
  }
}

export const run = (roles: Roles, flags: ServeFlags) => oneLine(() => runServer(roles, flags));
export const migrateCommand = (flags: ServeFlags) => oneLine(() => migrateDatabase(flags));
export const rotateSecretsKeyCommand = (flags: ServeFlags) => oneLine(() => rotateSecretsKey(flags));
