import { describe, expect, it } from 'vitest';
import type { Queryable } from '../src/db/db.js';
import { CachedOperatorCounts } from '../src/api/operator/cached-counts.js';

/** The /metrics gauges share one read of the operator counts per cache period. */
function fakeDb(): { db: Queryable; reads: () => number; fail: (on: boolean) => void } {
  let reads = 0;
  let failing = false;
  const db = {
    async query() {
      reads++;
      if (failing) throw new Error('database down');
      return { rows: [{ failing: 3, circuits: 1, delivery_id: null, tenant_id: null, endpoint_id: null, due_at: null, age: null }] };
    },
  } as unknown as Queryable;
  return { db, reads: () => reads, fail: (on) => (failing = on) };
}

describe('CachedOperatorCounts', () => {
  it('reads once per period, shares a read in flight, and reads again after it', async () => {
    let now = 0;
    const f = fakeDb();
    const c = new CachedOperatorCounts(f.db, 5000, () => now);
    const [a, b] = await Promise.all([c.get(), c.get()]);
    expect(a).toEqual({ endpointsFailing: 3, circuitsOpen: 1, oldestDue: null });
    expect(b).toBe(a);
    now = 4999;
    await c.get();
    expect(f.reads()).toBe(1);
    now = 5000;
    await c.get();
    expect(f.reads()).toBe(2);
  });

  it('does not keep a failed read', async () => {
    const f = fakeDb();
    const c = new CachedOperatorCounts(f.db, 5000, () => 0);
    f.fail(true);
    await expect(c.get()).rejects.toThrow('database down');
    f.fail(false);
    expect((await c.get()).endpointsFailing).toBe(3);
    expect(f.reads()).toBe(2);
  });
});
