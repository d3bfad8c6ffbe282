import { Worker } from 'node:worker_threads';
import { threadEntry } from '../thread-entry.js';
import type { FieldProblem } from './schema-compiler.js';
import type { ValidationItem, ValidationReply, ValidationRequest } from './validation-protocol.js';

/** The thread's entry point (see thread-entry.ts). */
const THREAD_ENTRY = threadEntry('intake/validation-thread.js');

/** Validation of one request took longer than its budget; the thread that ran it was stopped. */
export class ValidationTimeoutError extends Error {
  constructor(readonly budgetMs: number) {
    super(`payload validation took longer than ${budgetMs} ms`);
  }
}

/** The schema could not be compiled in the thread (a bad schema already stored). */
export class ValidationFailedError extends Error {}

interface Job {
  items: ValidationItem[];
  resolve: (r: (FieldProblem[] | null)[]) => void;
  reject: (e: Error) => void;
  /** One resend is allowed when the thread had dropped a schema. */
  resent: boolean;
}

/**
 * Runs payload validation in a worker thread with a time budget per request.
 *
 * Why a thread: ajv's validation is synchronous and cannot be interrupted.
 * Linear-time patterns (schema-compiler.ts) remove the exponential case,
 * but a schema can still be slow on a large payload (`uniqueItems` over
 * thousands of objects is quadratic). In the thread, a slow validation
 * never stops the HTTP server or the deliveries of this process, and one
 * past its budget is ended by terminating the thread (a new one starts for
 * the next request). Requests are validated one at a time, so the budget
 * measures only the request's own validation. Payloads without a schema
 * never come here.
 */
export class ValidationRunner {
  private worker: Worker | null = null;
  /** The current thread has loaded (its start-up does not count against a budget). */
  private ready = false;
  /** Schema keys the current thread has compiled. */
  private known = new Set<string>();
  private readonly queue: Job[] = [];
  private running: { job: Job; id: number; timer: NodeJS.Timeout } | null = null;
  private nextId = 1;
  private closed = false;

  constructor(
    /** Longest a request's validation may run, in milliseconds. */
    private readonly budgetMs: number,
  ) {}

  /** Per item, null when valid or the problems found. Rejects with ValidationTimeoutError past the budget. */
  validate(items: ValidationItem[]): Promise<(FieldProblem[] | null)[]> {
    if (this.closed) return Promise.reject(new Error('validation runner is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ items, resolve, reject, resent: false });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('validation runner is closed'));
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(THREAD_ENTRY);
    w.unref();
    w.on('message', (m: ValidationReply) => this.onReply(w, m));
    w.on('error', (err) => this.onThreadGone(w, err));
    w.on('exit', (code) => this.onThreadGone(w, new Error(`validation thread exited (code ${code})`)));
    this.worker = w;
    this.ready = false;
    this.known = new Set();
    return w;
  }

  private pump(): void {
    if (this.running || this.closed || this.queue.length === 0) return;
    const w = this.thread();
    if (!this.ready) {
      w.ref();
      return;
    }
    const job = this.queue.shift()!;
    const id = this.nextId++;
    // The schema travels only until the thread has compiled it.
    const items = job.items.map((it) => (this.known.has(it.key) ? { key: it.key, payload: it.payload } : it));
    const timer = setTimeout(() => this.onTimeout(w, id), this.budgetMs);
    this.running = { job, id, timer };
    w.ref();
    w.postMessage({ id, items } satisfies ValidationRequest);
  }

  private finish(): Job | null {
    const r = this.running;
    if (!r) return null;
    clearTimeout(r.timer);
    this.running = null;
    this.worker?.unref();
    return r.job;
  }

  private onReply(w: Worker, m: ValidationReply): void {
    if (w !== this.worker) return;
    if ('ready' in m) {
      this.ready = true;
      w.unref();
      this.pump();
      return;
    }
    if (this.running?.id !== m.id) return;
    const job = this.finish()!;
    if (m.ok) {
      for (const k of m.compiled) this.known.add(k);
      job.resolve(m.results);
    } else if (m.missing && !job.resent) {
      this.known.clear();
      job.resent = true;
      this.queue.unshift(job);
    } else {
      job.reject(new ValidationFailedError(m.message));
    }
    this.pump();
  }

  private onTimeout(w: Worker, id: number): void {
    if (w !== this.worker || this.running?.id !== id) return;
    const job = this.finish()!;
    this.worker = null;
    void w.terminate();
    job.reject(new ValidationTimeoutError(this.budgetMs));
    this.pump();
  }

  private onThreadGone(w: Worker, err: Error): void {
    if (w !== this.worker) return;
    this.worker = null;
    const job = this.finish() ?? (this.ready ? null : this.queue.shift());
    job?.reject(err);
    this.pump();
  }
}
