import { describe, expect, it } from 'vitest';
import { classify } from '../bench/activity.js';
import { PICK_SQL } from '../src/delivery/queue/claim.js';
import { RECORD_FINAL_SQL, RECORD_SQL } from '../src/delivery/queue/record.js';

// The bench's report says which statement PostgreSQL was running; it must know the statements as they are now.
describe('the bench tells Herald statements apart in pg_stat_activity', () => {
  // pg_stat_activity keeps the first track_activity_query_size bytes (1 KB by default)
  const seen = (sql: string) => sql.slice(0, 1024);

  it('knows both forms of the outcome write', () => {
    expect(classify(seen(RECORD_FINAL_SQL))).toBe('record');
    expect(classify(seen(RECORD_SQL))).toBe('record');
  });

  it('knows the claim, and calls an unknown statement other', () => {
    expect(classify(seen(`${PICK_SQL}, claimed as (select 1)`))).toBe('claim');
    expect(classify('select 1')).toBe('other');
  });
});
