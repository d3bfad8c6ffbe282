import { Worker } from 'node:worker_threads';
import type { Config } from '../config/config.js';
import { checkTimeoutMs, type SandboxLimits, type SandboxReply, type SandboxRequest, type SandboxResult } from './protocol.js';

/** As in intake/validation-runner.ts: tests run TypeScript, so the thread is the compiled copy in dist/ (`npm test` builds first). */
const THREAD_ENTRY = import.meta.url.endsWith('.ts') ? new URL('../../dist/transform/thread.js', import.meta.url) : new URL('./thread.js', import.meta.url);

export interface TransformPoolOptions extends SandboxLimits {
  /** Threads at most (started on first use). (Default: 1) */
  threads: number;
  /** Runs waiting for a thread at most; past it a run fails at once as `transformation_busy`. (Default: 1000) */
  queueLimit: number;
}

interface Job {
  request: Omit<SandboxRequest, 'id'>;
  resolve: (r: SandboxResult) => void;
}

interface Thread {
  worker: Worker;
  ready: boolean;
  running: { id: number; job: Job; timer: NodeJS.Timeout } | null;
}

/**
 * The interrupt inside QuickJS stops a run at its deadline; a thread that
 * still has not answered this long after it (a run stuck outside the
 * interpreter) is terminated and replaced.
 */
const HARD_STOP_GRACE_MS = 1_000;

/**
 * Runs transformations on a few worker threads, off the event loop that
 * sends deliveries: a transformation that loops for its whole time limit
 * holds one thread, never the worker. Runs wait in one queue per key (the
 * endpoint), taken round-robin, so an endpoint whose transformation always
 * times out delays its own deliveries, not those of other endpoints with
 * transformations. Threads start on first use and do not keep the process
 * alive while idle.
 */
export class TransformPool {
  private readonly threads: Thread[] = [];
  private readonly queues = new Map<string, Job[]>();
  private queued = 0;
  private nextId = 1;
  private closed = false;

  constructor(private readonly o: TransformPoolOptions) {}

  /** Runs `source` on `input` (a JSON text); `key` names whose queue the run waits in. Never rejects. */
  run(key: string, source: string, input: string): Promise<SandboxResult> {
    return this.submit(key, { mode: 'run', source, input });
  }

  /** Whether `source` evaluates to a function (the save-time check). */
  check(source: string): Promise<SandboxResult> {
    return this.submit('', { mode: 'check', source, input: 'null' });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const list of this.queues.values()) for (const job of list) job.resolve(closedResult());
    this.queues.clear();
    this.queued = 0;
    const threads = this.threads.splice(0);
    for (const t of threads) if (t.running) t.running.job.resolve(closedResult());
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }

  private submit(key: string, request: Omit<SandboxRequest, 'id'>): Promise<SandboxResult> {
    if (this.closed) return Promise.resolve(closedResult());
    if (this.queued >= this.o.queueLimit) {
      return Promise.resolve({ ok: false, code: 'transformation_busy', message: `${this.o.queueLimit} transformations already wait for a thread` });
    }
    return new Promise((resolve) => {
      const list = this.queues.get(key);
      if (list) list.push({ request, resolve });
      else this.queues.set(key, [{ request, resolve }]);
      this.queued++;
      this.pump();
    });
  }

  /** The next job, one key after another. */
  private take(): Job | null {
    for (const [key, list] of this.queues) {
      const job = list.shift()!;
      this.queues.delete(key);
      if (list.length > 0) this.queues.set(key, list); // to the back of the round
      this.queued--;
      return job;
    }
    return null;
  }

  private pump(): void {
    while (this.queued > 0 && !this.closed) {
      const idle = this.threads.find((t) => t.ready && !t.running);
      if (!idle) {
        if (this.threads.length < this.o.threads && !this.threads.some((t) => !t.ready)) this.spawn();
        return;
      }
      const job = this.take()!;
      const id = this.nextId++;
      const limitMs = job.request.mode === 'check' ? checkTimeoutMs(this.o) : this.o.timeoutMs;
      const timer = setTimeout(() => this.onStuck(idle, id, limitMs), limitMs + HARD_STOP_GRACE_MS);
      idle.running = { id, job, timer };
      idle.worker.ref();
      idle.worker.postMessage({ id, ...job.request } satisfies SandboxRequest);
    }
  }

  private spawn(): void {
    const limits: SandboxLimits = { timeoutMs: this.o.timeoutMs, memoryBytes: this.o.memoryBytes };
    // The thread's own heap stays small: what a transformation allocates lives in QuickJS's WebAssembly memory, capped above.
    const worker = new Worker(THREAD_ENTRY, { workerData: limits, resourceLimits: { maxOldGenerationSizeMb: 64 + Math.ceil(this.o.memoryBytes / 1048576) } });
    const t: Thread = { worker, ready: false, running: null };
    this.threads.push(t);
    worker.on('message', (m: SandboxReply) => this.onReply(t, m));
    worker.on('error', (err) => this.onGone(t, `transformation thread failed: ${err.message}`));
    worker.on('exit', (code) => this.onGone(t, `transformation thread exited (code ${code})`));
  }

  private onReply(t: Thread, m: SandboxReply): void {
    if ('ready' in m) {
      t.ready = true;
      t.worker.unref();
      this.pump();
      return;
    }
    const r = t.running;
    if (!r || r.id !== m.id) return;
    clearTimeout(r.timer);
    t.running = null;
    t.worker.unref();
    const { id: _id, ...result } = m;
    r.job.resolve(result);
    this.pump();
  }

  private onStuck(t: Thread, id: number, limitMs: number): void {
    if (t.running?.id !== id) return;
    const job = t.running.job;
    t.running = null;
    this.drop(t);
    void t.worker.terminate();
    job.resolve({ ok: false, code: 'transformation_timeout', message: `the transformation ran longer than ${limitMs} ms` });
    this.pump();
  }

  private onGone(t: Thread, message: string): void {
    if (!this.drop(t)) return;
    if (t.running) {
      clearTimeout(t.running.timer);
      t.running.job.resolve({ ok: false, code: 'transformation_error', message });
      t.running = null;
    }
    this.pump();
  }

  /** Forgets a thread (false when it was already forgotten). */
  private drop(t: Thread): boolean {
    const i = this.threads.indexOf(t);
    if (i < 0) return false;
    this.threads.splice(i, 1);
    return true;
  }
}

const closedResult = (): SandboxResult => ({ ok: false, code: 'transformation_busy', message: 'the transformation pool is closed' });

/** The pool a process runs with, from its configuration (HERALD_TRANSFORM_*). */
export const transformPoolFor = (config: Config): TransformPool =>
  new TransformPool({
    threads: config.transformThreads,
    queueLimit: config.transformQueueLimit,
    timeoutMs: config.transformTimeoutMs,
    memoryBytes: config.transformMemoryMb * 1024 * 1024,
  });
