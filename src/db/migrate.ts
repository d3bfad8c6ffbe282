import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Db } from './db.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

export interface MigrationResult {
  applied: string[];
}

/**
 * Applies numbered plain-SQL migrations (`migrations/NNNN_name.sql`) in order.
 * Each runs in its own transaction that first records itself in
 * `herald_migrations` under a transaction-scoped advisory lock, so two
 * processes migrating at once is harmless: the second waits, then sees the
 * row and skips.
 */
/** `onProgress` hears after each file: how many are done (applied or already there) of how many. */
export async function migrate(db: Db, onProgress?: (done: number, total: number) => void): Promise<MigrationResult> {
  await db.query(`create table if not exists herald_migrations (
    id integer primary key, name text not null, applied_at timestamptz not null default now())`);
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => /^\d{4}_.+\.sql$/.test(f)).sort();
  const applied: string[] = [];
  for (const [index, file] of files.entries()) {
    const id = Number(file.slice(0, 4));
    const sql = await readFile(MIGRATIONS_DIR + file, 'utf8');
    const did = await db.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock(7177001)');
      const seen = await tx.query('select 1 from herald_migrations where id = $1', [id]);
      if (seen.rows.length > 0) return false;
      await tx.query('insert into herald_migrations (id, name) values ($1, $2)', [id, file]);
      // Migration files hold several statements: run them as one simple query.
      await tx.exec(sql);
      return true;
    });
    if (did) applied.push(file);
    onProgress?.(index + 1, files.length);
  }
  return { applied };
}
