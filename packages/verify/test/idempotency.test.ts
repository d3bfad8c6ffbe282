import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryIdempotencyStore, PostgresIdempotencyStore, createTableSql, onceOnly } from '../src/index.js';

function clock(start = 1_700_000_000) {
  let now = start;
  return { now: () => now, advance: (seconds: number) => void (now += seconds) };
}

describe('MemoryIdempotencyStore', () => {
  it('claims an id once until its TTL passes', async () => {
    const time = clock();
    const store = new MemoryIdempotencyStore({ now: time.now });
    expect(await store.claim('msg_1', 60)).toBe(true);
    expect(await store.claim('msg_1', 60)).toBe(false);
    expect(await store.claim('msg_2', 60)).toBe(true);
    time.advance(59);
    expect(await store.claim('msg_1', 60)).toBe(false);
    time.advance(1);
    expect(await store.claim('msg_1', 60)).toBe(true);
    expect(await store.claim('msg_1', 60)).toBe(false);
  });

  it('sweeps expired ids periodically', async () => {
    const time = clock();
    const store = new MemoryIdempotencyStore({ now: time.now, sweepIntervalSeconds: 10 });
    for (let i = 0; i < 100; i++) await store.claim(`old_${i}`, 5);
    expect(store.size).toBe(100);
    time.advance(11);
    await store.claim('new', 5);
    expect(store.size).toBe(1);
  });

  it('drops the oldest claims past maxSize', async () => {
    const time = clock();
    const store = new MemoryIdempotencyStore({ now: time.now, maxSize: 3 });
    for (const id of ['a', 'b', 'c', 'd']) expect(await store.claim(id, 60)).toBe(true);
    expect(store.size).toBe(3);
    expect(await store.claim('b', 60)).toBe(false);
    expect(await store.claim('a', 60)).toBe(true); // forgotten
  });

  it('rejects bad options', () => {
    expect(() => new MemoryIdempotencyStore({ maxSize: 0 })).toThrow(TypeError);
  });
});

describe('onceOnly', () => {
  it('runs the function the first time only', async () => {
    const store = new MemoryIdempotencyStore();
    let runs = 0;
    expect(await onceOnly(store, 'msg_1', () => ++runs)).toEqual({ duplicate: false, value: 1 });
    expect(await onceOnly(store, 'msg_1', () => ++runs)).toEqual({ duplicate: true });
    expect(runs).toBe(1);
  });

  it('releases the claim when the function throws, so a retry runs it again', async () => {
    const store = new MemoryIdempotencyStore();
    await expect(
      onceOnly(store, 'msg_1', async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await onceOnly(store, 'msg_1', async () => 'done')).toEqual({ duplicate: false, value: 'done' });
  });

  it('gives one winner among concurrent deliveries', async () => {
    const store = new MemoryIdempotencyStore();
    const results = await Promise.all(Array.from({ length: 10 }, () => onceOnly(store, 'msg_c', async () => 1)));
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
  });
});

describe('PostgresIdempotencyStore', () => {
  it.skipIf(!process.env.DATABASE_URL)('claims once, lets expired ids be claimed again', async () => {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 });
    const prefix = `verify-test-${randomUUID()}`;
    try {
      await pool.query(createTableSql);
      const store = new PostgresIdempotencyStore(pool);
      const id = `${prefix}-1`;
      expect(await store.claim(id, 60)).toBe(true);
      expect(await store.claim(id, 60)).toBe(false);

      // Concurrent claims of a fresh id: exactly one wins.
      const fresh = `${prefix}-2`;
      const claims = await Promise.all(Array.from({ length: 8 }, () => store.claim(fresh, 60)));
      expect(claims.filter(Boolean)).toHaveLength(1);

      // An expired claim can be taken over.
      const short = `${prefix}-3`;
      expect(await store.claim(short, 0.2)).toBe(true);
      expect(await store.claim(short, 60)).toBe(false);
      await new Promise((r) => setTimeout(r, 300));
      expect(await store.claim(short, 60)).toBe(true);
      expect(await store.claim(short, 60)).toBe(false);

      // release + onceOnly
      await store.release(id);
      expect(await onceOnly(store, id, () => 'again')).toEqual({ duplicate: false, value: 'again' });
      expect(await onceOnly(store, id, () => 'again')).toEqual({ duplicate: true });
    } finally {
      await pool.query('delete from herald_processed_webhooks where id like $1', [`${prefix}-%`]);
      await pool.end();
    }
  });
});
