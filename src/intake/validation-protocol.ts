import type { FieldProblem } from './schema-compiler.js';

/** One payload to check against one schema. */
export interface ValidationItem {
  /** Identifies the schema (event type and a hash of the schema). */
  key: string;
  /** Sent only until the thread has said it holds the compiled schema. */
  schema?: Record<string, unknown>;
  payload: unknown;
}

/** Main thread → validation thread. */
export interface ValidationRequest {
  id: number;
  items: ValidationItem[];
}

/** Validation thread → main thread: `ready` once loaded, then per item null (valid) or its problems. */
export type ValidationReply =
  | { ready: true }
  | { id: number; ok: true; results: (FieldProblem[] | null)[]; compiled: string[] }
  | { id: number; ok: false; message: string; missing?: string };
