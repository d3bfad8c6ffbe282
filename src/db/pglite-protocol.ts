/**
 * Messages between the main thread's `PgliteDb` (pglite.ts) and the thread
 * that owns the PGlite instance (pglite-thread.ts). Everything here crosses
 * `postMessage`, i.e. the structured clone algorithm: Dates, bigints,
 * Uint8Arrays, arrays and plain objects arrive as they left; class instances
 * arrive as plain objects and functions cannot be sent at all.
 */

/** What the thread is started with (`workerData`). */
export interface ThreadOptions {
  /** Data directory; undefined = in memory. */
  dataDir: string | undefined;
}

/** Main → thread. `tx` names the open transaction a statement belongs to. */
export type Request =
  /** `textArrays`: positions of params that are binary text[] values (db/binary-text-array.ts), to be read back into strings. */
  | { op: 'query'; id: number; sql: string; params: unknown[]; textArrays?: number[]; tx?: number }
  | { op: 'exec'; id: number; sql: string; tx?: number }
  /** Answered once the transaction holds the connection; the answer's `result` is its tx number. */
  | { op: 'begin'; id: number }
  | { op: 'end'; id: number; tx: number; commit: boolean }
  /** `listenId` (chosen by the main thread) tags the notifications of this subscription. */
  | { op: 'listen'; id: number; listenId: number; channel: string }
  | { op: 'unlisten'; id: number; listenId: number }
  | { op: 'close'; id: number };

/** Thread → main. */
export type Reply =
  | { kind: 'ready' }
  | { kind: 'ok'; id: number; result: unknown }
  | { kind: 'error'; id: number; error: SerializedError }
  | { kind: 'notify'; listenId: number; payload: string };

/** Rows of one statement, as `Queryable.query` returns them. */
export interface QueryReply {
  rows: unknown[];
  rowCount: number;
}

/**
 * A PostgreSQL error's fields (PGlite's `DatabaseError`, the same names as
 * `pg`'s). Callers branch on `code` ('23505', '23503', '22…'), so every
 * string field is carried over.
 */
export interface SerializedError {
  name: string;
  message: string;
  fields: Record<string, string | number>;
}

const ERROR_FIELDS = [
  'code',
  'severity',
  'detail',
  'hint',
  'position',
  'internalPosition',
  'internalQuery',
  'where',
  'schema',
  'table',
  'column',
  'dataType',
  'constraint',
  'file',
  'line',
  'routine',
] as const;

export function serializeError(err: unknown): SerializedError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err), fields: {} };
  const fields: Record<string, string | number> = {};
  const e = err as unknown as Record<string, unknown>;
  for (const k of ERROR_FIELDS) {
    const v = e[k];
    if (typeof v === 'string' || typeof v === 'number') fields[k] = v;
  }
  return { name: err.name, message: err.message, fields };
}

/**
 * The error the caller sees: an `Error` with the PostgreSQL fields set on it,
 * as PGlite's and `pg`'s `DatabaseError` have them. (The thread's stack is
 * left behind: it only ever shows PGlite's internals.)
 */
export function deserializeError(s: SerializedError): Error {
  const err = new Error(s.message);
  err.name = s.name;
  return Object.assign(err, s.fields);
}
