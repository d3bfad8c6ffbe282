import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedPass } from './helpers/db.js';
import { PgliteDb } from '../src/db/pglite.js';

/**
 * PgliteDb runs PGlite in a worker thread (src/db/pglite-thread.ts). These
 * tests hold it to what PGlite in process did: the same rows, PostgreSQL's
 * error codes, one transaction at a time, notifications, a clean close.
 * They run on PGlite whatever DATABASE_URL says: they test this class.
 */
describe.runIf(embeddedPass)('PgliteDb in a worker thread', () => {
  let db: PgliteDb;
  let inProcess: PGlite;

  beforeAll(async () => {
    [db, inProcess] = await Promise.all([PgliteDb.open(undefined), PGlite.create()]);
    const schema = `create table parent (id int primary key);
      create table child (id int primary key, parent_id int not null references parent(id), note text);`;
    await db.exec(schema);
    await inProcess.exec(schema);
  });

  afterAll(async () => {
    await db.close();
    await inProcess.close();
  });

  const fail = (p: Promise<unknown>) =>
    p.then(
      () => expect.unreachable('should have failed'),
      (err: unknown) => err as Error & Record<string, unknown>,
    );

  it('returns the same rows as PGlite in process, types and all', async () => {
    const sql = `select $1::int as i, $2::int8 as small8, '9007199254740993'::int8 as big8, $3::numeric as num,
      $4::timestamptz as ts, '2026-01-02'::date as d, $5::jsonb as jb, $6::json as js, $7::text[] as arr,
      array[1, 2, null]::int[] as ints, $8::bytea as bytes, null::text as nothing, true as yes, 1.5::float8 as f,
      '7d3b2b1e-3f7a-4b7e-9d2a-1c2b3c4d5e6f'::uuid as u, interval '90 minutes' as iv, $9::int8 as param8`;
    const params = [
      42,
      '12',
      '1.10',
      new Date('2026-03-04T05:06:07.089Z'),
      { a: [1, null, 'x'], nested: { b: true } },
      [1, 'two'],
      ['x', 'y"', null],
      Buffer.from([0, 1, 255]),
      2n ** 60n,
    ];
    const thread = await db.query<{ big8: bigint; ts: Date }>(sql, params);
    const local = await inProcess.query(sql, params);
    expect(thread.rows).toEqual(local.rows);
    expect(thread.rows[0]!.big8).toBe(9007199254740993n);
    expect(thread.rows[0]!.ts).toBeInstanceOf(Date);
    expect(thread.rowCount).toBe(local.affectedRows ?? 0);

    const write = 'insert into parent (id) select g from generate_series($1::int, $2::int) g';
    expect((await db.query(write, [1000, 1009])).rowCount).toBe(10);
    expect((await inProcess.query(write, [1000, 1009])).affectedRows).toBe(10);
  });

  it('answers each of many calls under way at once with its own result, wave after wave', async () => {
    // the call ids are reused once answered (PendingCalls): a reply must still reach its own caller
    for (let wave = 0; wave < 3; wave++) {
      const values = Array.from({ length: 200 }, (_, i) => wave * 1000 + i);
      const rows = await Promise.all(values.map((v) => db.query<{ v: number }>('select $1::int as v', [v])));
      expect(rows.map((r) => r.rows[0]!.v)).toEqual(values);
    }
  });

  it("brings PostgreSQL's error code and fields to the main thread", async () => {
    await db.query('insert into parent (id) values (1)');
    const dup = await fail(db.query('insert into parent (id) values (1)'));
    expect(dup).toBeInstanceOf(Error);
    expect(dup.code).toBe('23505');
    expect(dup.constraint).toBe('parent_pkey');
    expect(dup.message).toBe('duplicate key value violates unique constraint "parent_pkey"');
    expect(dup.detail).toBe('Key (id)=(1) already exists.');

    const orphan = await fail(db.query('insert into child (id, parent_id) values (1, 999)'));
    expect(orphan.code).toBe('23503');
    expect(orphan.table).toBe('child');

    const inTx = await fail(db.transaction((tx) => tx.query('select 1 / 0')));
    expect(inTx.code).toBe('22012');

    // a statement the caller catches inside the transaction: COMMIT is refused, as in process
    const aborted = await fail(
      db.transaction(async (tx) => {
        await tx.query('select 1 / 0').catch(() => undefined);
        return 'done';
      }),
    );
    expect(aborted.code).toBe('25P02');
  });

  it('queues every other statement until the open transaction ends', async () => {
    await db.query('delete from parent where id between 10 and 19');
    const order: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let inside: () => void = () => undefined;
    const started = new Promise<void>((r) => (inside = r));

    const tx = db.transaction(async (t) => {
      await t.query('insert into parent (id) values (10)');
      inside();
      await gate; // hold the connection while others queue
      await t.query('insert into parent (id) values (11)');
      order.push('tx done');
      return 'committed';
    });
    await started;
    const outside = db.query<{ n: number }>('select count(*)::int as n from parent where id between 10 and 19').then((r) => {
      order.push('outside');
      return r.rows[0]!.n;
    });
    const second = db.transaction(async (t) => {
      order.push('second tx');
      await t.query('insert into parent (id) values (12)');
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(order).toEqual([]); // neither ran while the first transaction held the connection
    release();
    expect(await tx).toBe('committed');
    expect(await outside).toBe(2); // and then saw both of its rows, committed
    await second;
    expect(order).toEqual(['tx done', 'outside', 'second tx']);
  });

  it("rolls back when the callback throws, and rethrows the callback's error", async () => {
    const boom = new Error('boom');
    await expect(
      db.transaction(async (t) => {
        await t.query('insert into parent (id) values (20)');
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect((await db.query('select 1 from parent where id = 20')).rows).toEqual([]);

    await fail(
      db.transaction(async (t) => {
        await t.query('insert into parent (id) values (21)');
        await t.query('insert into child (id, parent_id) values (21, 999)'); // 23503: rethrown
      }),
    );
    expect((await db.query('select 1 from parent where id = 21')).rows).toEqual([]);
  });

  it('refuses statements on a transaction that has ended', async () => {
    let kept: { query: (sql: string) => Promise<unknown> } | null = null;
    await db.transaction(async (t) => {
      kept = t;
    });
    expect((await fail(kept!.query('select 1'))).message).toBe('Transaction is closed');
  });

  it('forwards notifications, those sent inside a transaction once it commits', async () => {
    const got: string[] = [];
    const stop = await db.listen('thread_test', (p) => got.push(p));
    await db.query("select pg_notify('thread_test', 'plain')");
    await db.transaction(async (t) => {
      await t.query("select pg_notify('thread_test', 'in tx')");
    });
    await fail(
      db.transaction(async (t) => {
        await t.query("select pg_notify('thread_test', 'rolled back')");
        throw new Error('no');
      }),
    );
    await expect.poll(() => got).toEqual(['plain', 'in tx']);
    await stop();
    await db.query("select pg_notify('thread_test', 'after unlisten')");
    await db.query('select 1'); // a round trip after the notify: nothing more arrives
    expect(got).toEqual(['plain', 'in tx']);
  });

  it('refuses a parameter structured clone cannot carry, without losing the connection', async () => {
    const err = await fail(db.query('select $1::text', [() => 1]));
    expect(err.name).toBe('DataCloneError');
    expect((await db.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });
});

describe.runIf(embeddedPass)('PgliteDb lifecycle', () => {
  it('keeps a directory database across close and open', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-pglite-thread-'));
    try {
      const first = await PgliteDb.open(join(dir, 'data'));
      await first.exec('create table kept (v text)');
      await first.query('insert into kept values ($1)', ['still here']);
      await first.close();
      await first.close(); // twice is harmless
      await expect(first.query('select 1')).rejects.toThrow('PGlite is closed');

      const again = await PgliteDb.open(join(dir, 'data'));
      expect((await again.query('select v from kept')).rows).toEqual([{ v: 'still here' }]);
      await again.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('lets queued statements finish before closing', async () => {
    const db = await PgliteDb.open(undefined);
    const queued = Array.from({ length: 20 }, (_, i) => db.query<{ i: number }>('select $1::int as i', [i]));
    await db.close();
    expect((await Promise.all(queued)).map((r) => r.rows[0]!.i)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('fails pending and later calls if the thread dies', async () => {
    const db = await PgliteDb.open(undefined);
    const worker = (db as unknown as { worker: Worker }).worker;
    const slow = db.query('select pg_sleep(1)');
    await worker.terminate();
    await expect(slow).rejects.toThrow(/PGlite thread exited/);
    await expect(db.query('select 1')).rejects.toThrow(/PGlite thread exited/);
    await db.close();
  });
});
