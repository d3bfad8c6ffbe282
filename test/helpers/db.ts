import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * A fresh database for one test file: a new PostgreSQL database on the
 * server named by DATABASE_URL (dropped afterwards), or, without
 * DATABASE_URL, a new PGlite data directory.
 */
export interface TestDatabase {
  kind: 'pg' | 'pglite';
  /** Set for PostgreSQL. */
  url?: string;
  /** Set for PGlite. */
  dataDir?: string;
  drop(): Promise<void>;
}

/**
 * The suite's pass on the embedded database (the README's `npm test`).
 * Tests of the embedded database alone (its data directory, its thread, an
 * installed `herald serve`) do not read DATABASE_URL: the PostgreSQL pass
 * would run exactly the same tests again, so they run in this pass only.
 */
export const embeddedPass = !process.env.DATABASE_URL;

export async function createTestDatabase(): Promise<TestDatabase> {
  const base = process.env.DATABASE_URL;
  if (!base) {
    const dir = await mkdtemp(join(tmpdir(), 'herald-test-'));
    // a copy of the migrated template made once by test/global-setup.ts
    const template = process.env.HERALD_TEST_PGLITE_TEMPLATE;
    if (template) await cp(template, join(dir, 'data'), { recursive: true });
    return { kind: 'pglite', dataDir: join(dir, 'data'), drop: () => rm(dir, { recursive: true, force: true }) };
  }
  const name = `herald_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(base);
  u.pathname = `/${name}`;
  return {
    kind: 'pg',
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
