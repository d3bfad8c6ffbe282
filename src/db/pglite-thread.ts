/**
 * The thread that owns the embedded database. PGlite is PostgreSQL compiled
 * to WASM: every statement runs synchronously on the thread that calls it,
 * so in the main thread it stalled the HTTP server and the delivery sender
 * for as long as each query took. Here it stalls only this thread; the main
 * thread's `PgliteDb` (pglite.ts) sends statements as messages
 * (pglite-protocol.ts).
 *
 * PGlite has one connection and serializes everything on it: a query sent
 * while a transaction is open waits inside PGlite (its transaction mutex)
 * until the transaction ends, exactly as it did in process. So this file
 * adds no ordering of its own beyond "a transaction's statements run one
 * after the other, in the order they were sent".
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { serializeError, type QueryReply, type Reply, type Request, type ThreadOptions } from './pglite-protocol.js';
import { readBinaryTextArray } from './binary-text-array.js';

type TxStatement = Extract<Request, { op: 'query' | 'exec' | 'end' }>;

/** Statements for one open transaction, handed over as they arrive. */
class TxInbox {
  private readonly queue: TxStatement[] = [];
  private waiter: ((r: TxStatement) => void) | null = null;

  push(r: TxStatement): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(r);
    } else {
      this.queue.push(r);
    }
  }

  next(): Promise<TxStatement> {
    const r = this.queue.shift();
    if (r) return Promise.resolve(r);
    return new Promise((resolve) => (this.waiter = resolve));
  }
}

/** Thrown inside PGlite's transaction callback to make it roll back. */
const ROLLBACK = Symbol('rollback');

if (!parentPort) throw new Error('pglite-thread.ts runs as a worker thread (see pglite.ts)');
const port = parentPort;
const opts = workerData as ThreadOptions;
const pg = opts.dataDir ? await PGlite.create(opts.dataDir) : await PGlite.create();
const transactions = new Map<number, TxInbox>();
const unlisteners = new Map<number, () => Promise<void>>();
let nextTx = 1;

const post = (r: Reply): void => port.postMessage(r);
const fail = (id: number, err: unknown): void => post({ kind: 'error', id, error: serializeError(err) });

function answer(id: number, work: Promise<unknown>): Promise<void> {
  return work.then(
    (result) => post({ kind: 'ok', id, result }),
    (err: unknown) => fail(id, err),
  );
}

async function query(on: PGlite | Transaction, sql: string, params: unknown[], textArrays: number[] = []): Promise<QueryReply> {
  // binary text[] values (see Queryable.query) as PGlite takes them: arrays of strings
  for (const i of textArrays) params[i] = readBinaryTextArray(params[i] as Uint8Array);
  const res = await on.query(sql, params);
  return { rows: res.rows, rowCount: res.affectedRows ?? 0 };
}

async function exec(on: PGlite | Transaction, sql: string): Promise<null> {
  await on.exec(sql);
  return null;
}

/**
 * Opens a PGlite transaction and feeds it the statements sent for it until
 * `end`. `begin` is answered only once the transaction holds the
 * connection; `end` is answered after COMMIT or ROLLBACK.
 */
function begin(beginId: number): void {
  const txId = nextTx++;
  const inbox = new TxInbox();
  let endId: number | null = null;
  pg.transaction(async (t) => {
    transactions.set(txId, inbox);
    post({ kind: 'ok', id: beginId, result: txId });
    for (;;) {
      const r = await inbox.next();
      if (r.op === 'end') {
        endId = r.id;
        if (!r.commit) throw ROLLBACK;
        return;
      }
      // A failed statement is the caller's to handle; the transaction stays
      // open (PostgreSQL refuses what follows until it ends, as in process).
      await answer(r.id, r.op === 'query' ? query(t, r.sql, r.params, r.textArrays) : exec(t, r.sql));
    }
  })
    .then(
      () => post({ kind: 'ok', id: endId!, result: null }),
      (err: unknown) => {
        if (endId === null) fail(beginId, err);
        else if (err === ROLLBACK) post({ kind: 'ok', id: endId, result: null });
        else fail(endId, err); // COMMIT refused (e.g. the transaction had failed)
      },
    )
    .finally(() => transactions.delete(txId));
}

function onRequest(r: Request): void {
  switch (r.op) {
    case 'query':
    case 'exec': {
      if (r.tx !== undefined) {
        const inbox = transactions.get(r.tx);
        if (inbox) inbox.push(r);
        else fail(r.id, new Error('Transaction is closed'));
        return;
      }
      void answer(r.id, r.op === 'query' ? query(pg, r.sql, r.params, r.textArrays) : exec(pg, r.sql));
      return;
    }
    case 'begin':
      begin(r.id);
      return;
    case 'end': {
      const inbox = transactions.get(r.tx);
      if (inbox) inbox.push(r);
      else fail(r.id, new Error('Transaction is closed'));
      return;
    }
    case 'listen':
      void answer(
        r.id,
        pg.listen(r.channel, (payload) => post({ kind: 'notify', listenId: r.listenId, payload })).then((unsub) => {
          unlisteners.set(r.listenId, unsub);
          return null;
        }),
      );
      return;
    case 'unlisten': {
      const unsub = unlisteners.get(r.listenId);
      unlisteners.delete(r.listenId);
      void answer(r.id, unsub ? unsub() : Promise.resolve());
      return;
    }
    case 'close':
      // PGlite finishes what is queued, then writes its files out. Closing
      // the port afterwards lets the thread end by itself.
      void answer(r.id, pg.closed ? Promise.resolve() : pg.close()).then(() => port.close());
      return;
  }
}

port.on('message', onRequest);
post({ kind: 'ready' });
