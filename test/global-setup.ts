import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate } from '../src/db/migrate.js';
import { PgliteDb } from '../src/db/pglite.js';

/**
 * Without DATABASE_URL every test file runs on its own PGlite database.
 * Creating and migrating one costs seconds of CPU, so it is done once here
 * and each test file copies the migrated directory (test/helpers/db.ts).
 */
export async function setup(): Promise<() => Promise<void>> {
  if (process.env.DATABASE_URL) return async () => undefined;
  const dir = await mkdtemp(join(tmpdir(), 'herald-pglite-template-'));
  const db = await PgliteDb.open(join(dir, 'data'));
  await migrate(db);
  await db.close();
  process.env.HERALD_TEST_PGLITE_TEMPLATE = join(dir, 'data');
  return () => rm(dir, { recursive: true, force: true });
}
