import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaryTextArray } from '../src/db/binary-text-array.js';
import { PgDb } from '../src/db/pg.js';
import { createLogger } from '../src/logger.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

/*
 * The intake connections prime their backends for large statements
 * (db/backend-heap.ts): a batch publish's message no longer maps fresh pages
 * in the backend every time. Read from the backend's own page-fault count,
 * so it needs the database server on this machine (as CI has it).
 */
const onPostgres = !!process.env.DATABASE_URL;

describe.skipIf(!onPostgres)('backends of connections made for large statements', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  /** Minor page faults of the connection's backend per statement carrying a batch's 1,000 payloads of 1 KB. */
  async function faultsPerStatement(largeStatements: boolean): Promise<number> {
    const db = new PgDb({ connectionString: database.url!, logger: createLogger('silent'), max: 1, largeStatements });
    try {
      const { rows } = await db.query<{ pid: number }>('select pg_backend_pid() as pid');
      const faults = () => Number(readFileSync(`/proc/${rows[0]!.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[7]);
      const payloads = binaryTextArray(Array.from({ length: 1000 }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(1000) })));
      const run = () => db.query('select cardinality($1::text[]) as n', [payloads]);
      await run();
      const before = faults();
      for (let i = 0; i < 5; i++) await run();
      return (faults() - before) / 5;
    } finally {
      await db.close();
    }
  }

  it('reuse their memory for a batch-sized statement, where a plain connection maps it afresh each time', async () => {
    // the plain connection shows what the priming is for: ~750 faults (3 MB of new pages) per statement
    expect(await faultsPerStatement(false)).toBeGreaterThan(300);
    expect(await faultsPerStatement(true)).toBeLessThan(50);
  });
});
