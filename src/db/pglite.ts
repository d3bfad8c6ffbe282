import { Worker } from 'node:worker_threads';
import { threadEntry } from '../thread-entry.js';
import type { Db, Listener, QueryResult, Queryable } from './db.js';
import { deserializeError, type Reply, type Request, type ThreadOptions } from './pglite-protocol.js';
import { binaryTextArraysIn } from './binary-text-array.js';
import { PendingCalls } from './pending-calls.js';

/** The thread's entry point (see thread-entry.ts). */
const THREAD_ENTRY = threadEntry('db/pglite-thread.js');

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
/** A request before `call` numbers it (Omit applied to each member of the union). */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
type Outgoing = WithoutId<Request>;

/** A statement for the thread, naming the binary text[] parameters it is to read back into strings. */
const queryRequest = (sql: string, params: unknown[], tx?: number): Outgoing => ({ op: 'query', sql, params, textArrays: binaryTextArraysIn(params), tx });

const STATES = { open: 'open', closing: 'closing', closed: 'closed' } as const;
type State = (typeof STATES)[keyof typeof STATES];

/**
 * Embedded PostgreSQL (PGlite, PostgreSQL compiled to WASM) persisted in a
 * directory, or in memory when `dataDir` is undefined. One connection, fsync
 * off: right for the zero-setup first run and for tests; production
 * durability comes from a PostgreSQL server (`DATABASE_URL`).
 *
 * PGlite runs in its own worker thread (pglite-thread.ts), so a query no
 * longer stops the HTTP server and the delivery sender while it runs; this
 * class is the main thread's side and keeps the `Db` contract of the
 * in-process version: same rows (structured clone keeps Dates, bigints,
 * Uint8Arrays, arrays and plain objects), errors with PostgreSQL's `code`,
 * one transaction at a time with everything else queued behind it.
 *
 * Measured (herald serve, 32 clients publishing single events for 20 s,
 * 100 endpoints with fan-out 10, a loopback receiver; 2 cores shared with
 * other work, load average ~7): in process 16–41 events/s accepted with
 * p99 9–21 s and 46–58 deliveries/s, some sent twice (answered sends timed
 * out while a query held the loop); in the thread 96–117 events/s, p99
 * 0.6–0.8 s, 378–459 deliveries/s, none twice. The hop costs about 60 µs
 * of CPU per small statement (both threads together) and no latency:
 * PGlite's own work is ~0.15–0.6 ms per statement. Batching the messages
 * of one tick into one postMessage saved ~50 µs per small statement in a
 * micro-benchmark and nothing measurable in the bench above (the PGlite
 * thread's queries dominate), so each request is its own message.
 *
 * Parameters cross by structured clone: a class instance arrives as a plain
 * object, so one that relied on its own `toJSON` or `toString` for PGlite to
 * serialize it must be converted by the caller (none in Herald does).
 */
export class PgliteDb implements Db {
  readonly kind = 'pglite' as const;
  private state: State = STATES.open;
  private nextListenId = 1;
  private readonly pending = new PendingCalls<Pending>();
  private readonly listeners = new Map<number, Listener>();
  private exited: Error | null = null;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: Reply) => this.onReply(m));
    worker.on('error', (err) => this.onExit(err));
    worker.on('exit', (code) => this.onExit(new Error(`PGlite thread exited (code ${code})`)));
    // Like PGlite in process, an idle database keeps no process alive: the
    // thread is referenced only while a request is waiting for its answer.
    worker.unref();
  }

  static async open(dataDir: string | undefined): Promise<PgliteDb> {
    const worker = new Worker(THREAD_ENTRY, { workerData: { dataDir } satisfies ThreadOptions });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: Reply) => {
        if (m.kind !== 'ready') return;
        done();
        resolve();
      };
      const onError = (err: Error) => {
        done();
        reject(err);
      };
      const onExit = (code: number) => onError(new Error(`PGlite thread exited during start (code ${code})`));
      const done = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    });
    return new PgliteDb(worker);
  }

  async query<R>(sql: string, params: unknown[] = []): Promise<QueryResult<R>> {
    return (await this.call(queryRequest(sql, params))) as QueryResult<R>;
  }

  async exec(sql: string): Promise<void> {
    await this.call({ op: 'exec', sql });
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const tx = (await this.call({ op: 'begin' })) as number;
    let open = true;
    const closed = () => Promise.reject(new Error('Transaction is closed'));
    const queryable: Queryable = {
      query: <R>(sql: string, params: unknown[] = []) =>
        open ? (this.call(queryRequest(sql, params, tx)) as Promise<QueryResult<R>>) : closed(),
      exec: async (sql: string) => {
        if (!open) return closed();
        await this.call({ op: 'exec', sql, tx });
      },
    };
    let out: T;
    try {
      out = await fn(queryable);
    } catch (err) {
      open = false;
      // The callback's error is the one that matters; a failed ROLLBACK
      // (the thread gone) has nothing to add to it.
      await this.call({ op: 'end', tx, commit: false }).catch(() => undefined);
      throw err;
    }
    open = false;
    await this.call({ op: 'end', tx, commit: true });
    return out;
  }

  async listen(channel: string, fn: Listener): Promise<() => Promise<void>> {
    const listenId = this.nextListenId++;
    this.listeners.set(listenId, fn);
    try {
      await this.call({ op: 'listen', listenId, channel });
    } catch (err) {
      this.listeners.delete(listenId);
      throw err;
    }
    return async () => {
      if (!this.listeners.delete(listenId) || this.state !== STATES.open) return;
      await this.call({ op: 'unlisten', listenId });
    };
  }

  async close(): Promise<void> {
    if (this.state !== STATES.open) return;
    if (this.exited) {
      this.state = STATES.closed; // the thread is already gone
      return;
    }
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.state = STATES.closing;
    try {
      await this.call({ op: 'close' }, true);
      this.worker.ref(); // until the thread has written its files and ended
      await exited;
    } finally {
      this.state = STATES.closed;
      this.listeners.clear();
      if (!this.exited) await this.worker.terminate();
    }
  }

  private call(req: Outgoing, closing = false): Promise<unknown> {
    if (this.exited) return Promise.reject(this.exited);
    if (this.state !== STATES.open && !closing) return Promise.reject(new Error('PGlite is closed'));
    return new Promise((resolve, reject) => {
      const id = this.pending.add({ resolve, reject });
      if (this.pending.size === 1) this.worker.ref();
      try {
        this.worker.postMessage({ ...req, id } as Request);
      } catch (err) {
        // e.g. DataCloneError: a parameter that structured clone refuses (a function)
        this.settle(id);
        reject(err as Error);
      }
    });
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.take(id);
    if (p && this.pending.size === 0) this.worker.unref();
    return p;
  }

  private onReply(m: Reply): void {
    switch (m.kind) {
      case 'ok':
        this.settle(m.id)?.resolve(m.result);
        return;
      case 'error':
        this.settle(m.id)?.reject(deserializeError(m.error));
        return;
      case 'notify':
        this.listeners.get(m.listenId)?.(m.payload);
        return;
      case 'ready':
        return;
    }
  }

  /** The thread ended: whatever still waits for it fails, and so does every later call. */
  private onExit(err: Error): void {
    if (this.exited) return;
    this.exited = this.state === STATES.open ? err : new Error('PGlite is closed');
    for (const p of this.pending.takeAll()) p.reject(this.exited);
    this.worker.unref();
  }
}
