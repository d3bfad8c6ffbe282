import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from './helpers/herald.js';

/*
 * Identifiers and keys compare byte by byte (migrations/0031): every text
 * column named `id` or `…_id` has the "C" collation, on the engine under
 * test, so a B-tree insert or probe compares with memcmp and not through the
 * locale. A table added later with a text id in the database's collation
 * fails here.
 */
let herald: TestHerald;

beforeAll(async () => {
  herald = await startHerald({}, { api: true, worker: false });
});
afterAll(async () => {
  await herald?.stop();
});

describe('key columns', () => {
  it('every text id column of the schema is byte-ordered', async () => {
    const { rows } = await herald.running.db.query<{ table_name: string; column_name: string; collation_name: string | null }>(
      `select table_name, column_name, collation_name from information_schema.columns
        where table_schema = current_schema() and data_type = 'text' and (column_name = 'id' or column_name like '%\\_id')
        order by table_name, column_name`,
    );
    // the hot tables are among them (a query that found nothing would pass below)
    const names = rows.map((r) => `${r.table_name}.${r.column_name}`);
    for (const c of ['events.id', 'events.tenant_id', 'deliveries.id', 'deliveries.endpoint_id', 'queue.delivery_id', 'queue.endpoint_id', 'attempts.delivery_id', 'endpoints.id', 'tenants.id']) {
      expect(names).toContain(c);
    }
    expect(rows.filter((r) => r.collation_name !== 'C').map((r) => `${r.table_name}.${r.column_name} (${r.collation_name ?? 'database default'})`)).toEqual([]);
  });

  it('the ordering keys and lease tokens the queue compares are byte-ordered too', async () => {
    const { rows } = await herald.running.db.query<{ c: string; collation_name: string | null }>(
      `select table_name || '.' || column_name as c, collation_name from information_schema.columns
        where table_schema = current_schema() and (table_name, column_name) in
              (('queue', 'ordering_key'), ('queue', 'lease_token'), ('deliveries', 'ordering_key'), ('events', 'ordering_key'), ('api_tokens', 'token_hash'))
        order by 1`,
    );
    expect(rows).toEqual([
      { c: 'api_tokens.token_hash', collation_name: 'C' },
      { c: 'deliveries.ordering_key', collation_name: 'C' },
      { c: 'events.ordering_key', collation_name: 'C' },
      { c: 'queue.lease_token', collation_name: 'C' },
      { c: 'queue.ordering_key', collation_name: 'C' },
    ]);
  });
});
