import {
  newQuickJSWASMModuleFromVariant,
  newVariant,
  shouldInterruptAfterDeadline,
  type CustomizeVariantOptions,
  type Intrinsics,
  type QuickJSContext,
  type QuickJSRuntime,
  type QuickJSSyncVariant,
  type QuickJSWASMModule,
} from 'quickjs-emscripten-core';
import { checkTimeoutMs, type SandboxLimits, type SandboxResult } from './protocol.js';

/**
 * What a transformation's realm has: the language, JSON, RegExp, Map/Set.
 * Not Date (no clock), not Promise (nothing runs after the call returns),
 * not Proxy or typed arrays (not needed to reshape JSON, and each costs
 * context set-up time). QuickJS itself has no I/O, no `require`, no
 * `process`, no timers: the only way in is the input, the only way out the
 * return value. Math.random is deleted before the source runs, so a run's
 * result depends on its input alone.
 */
const INTRINSICS: Intrinsics = { BaseObjects: true, Eval: true, JSON: true, RegExp: true, MapSet: true, StringNormalize: true };

/** WebAssembly.Memory as far as used here (Node's types leave out the WebAssembly namespace). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
const PAGE_BYTES = 64 * 1024;
/** The WebAssembly memory QuickJS starts with (16 MB, what its build asks for); a run's limit comes on top. */
const BASE_PAGES = 256;

/** The stack a run may use (deep recursion fails as a thrown error, not a crash). */
const STACK_BYTES = 256 * 1024;

/**
 * A runtime is recycled after this many runs: contexts are freed after
 * each run, but a fresh runtime also bounds whatever its atoms and
 * allocator keep.
 */
const RUNS_PER_RUNTIME = 2_000;

/**
 * The wrapper around the source: one expression, so its line numbers are
 * the source's own. `f` is the endpoint's function; the result is a JSON
 * text (undefined when the function returns nothing).
 */
const wrap = (source: string, mode: 'run' | 'check'): string =>
  `(delete Math.random, ((f) => { if (typeof f !== 'function') throw new TypeError('the transformation must be a function, e.g. (webhook) => webhook, not ' + typeof f);` +
  (mode === 'check' ? ` return () => 'null'; })(${source}\n))` : ` return (s) => JSON.stringify(f(JSON.parse(s))); })(${source}\n))`);

/**
 * Runs transformations in QuickJS compiled to WebAssembly: a separate
 * heap with its own memory limit, an interrupt that stops a run past its
 * deadline, and a fresh context (realm) per run, so nothing one run leaves
 * behind (globals, closures, prototypes) is seen by the next. The runtime
 * (allocator, atoms) is shared between a thread's runs; a run that leaves
 * work queued past its deadline gets the whole thread replaced.
 */
export class Sandbox {
  private runtime: QuickJSRuntime | null = null;
  private runs = 0;
  /** A context made ahead, between runs, so a run does not wait for its set-up. */
  private spare: QuickJSContext | null = null;

  constructor(
    private readonly module: QuickJSWASMModule,
    private readonly limits: SandboxLimits,
    /** The WebAssembly memory QuickJS runs in (null: not capped, the warm-up). */
    private readonly memory: WasmMemory | null = null,
  ) {}

  /**
   * QuickJS's own memory limit (JS_SetMemoryLimit) is not a limit in this
   * build: it counts an allocation's usable size, which its WebAssembly
   * build cannot learn (0), so 20 MB of strings passed a 2 MB limit
   * (measured). The limit is the WebAssembly memory instead: the thread's
   * whole QuickJS heap may grow to what it needs at rest plus
   * `memoryBytes`, and an allocation past that fails inside QuickJS as
   * "out of memory" (a run frees all it allocated, so each run has the
   * same room). A single huge allocation is refused the same way.
   */
  static async load(limits: SandboxLimits): Promise<Sandbox> {
    const memory = new (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number; maximum: number }) => WasmMemory } }).WebAssembly.Memory({ initial: BASE_PAGES, maximum: BASE_PAGES + Math.ceil(limits.memoryBytes / PAGE_BYTES) });
    // the release build with its .wasm beside it: the sync variant (no asyncify) is the smaller and faster one
    // its types describe the CommonJS build; the ESM namespace's default is the variant itself
    const base = (await import('@jitl/quickjs-wasmfile-release-sync')).default as unknown as QuickJSSyncVariant;
    // the engine's own WebAssembly.Memory, typed as QuickJS's option names it (without the DOM lib that type is
    // unresolved, with it the full interface, which WasmMemory leaves out)
    const wasmMemory = memory as unknown as NonNullable<CustomizeVariantOptions['wasmMemory']>;
    const module = await newQuickJSWASMModuleFromVariant(newVariant(base, { wasmMemory }));
    warmUp(module);
    return new Sandbox(module, limits, memory);
  }

  /** Makes the next run's context now (call when idle). */
  prepare(): void {
    if (!this.spare) this.spare = this.rt().newContext({ intrinsics: INTRINSICS });
  }

  /**
   * Set once the runtime could not be cleaned up (jobs left pending after
   * the deadline, or QuickJS refusing to free it): the thread then answers
   * and exits, and the pool starts a fresh one.
   */
  broken = false;

  run(source: string, input: string, mode: 'run' | 'check'): SandboxResult {
    const rt = this.rt();
    const ctx = this.spare ?? rt.newContext({ intrinsics: INTRINSICS });
    this.spare = null;
    this.runs++;
    const limitMs = mode === 'check' ? checkTimeoutMs(this.limits) : this.limits.timeoutMs;
    rt.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + limitMs));
    try {
      const made = ctx.evalCode(wrap(source, mode), 'transformation.js');
      if (made.error) return this.failure(made.error.consume((e) => ctx.dump(e)), limitMs);
      const arg = ctx.newString(input);
      const called = ctx.callFunction(made.value, ctx.undefined, arg);
      arg.dispose();
      made.value.dispose();
      if (called.error) return this.failure(called.error.consume((e) => ctx.dump(e)), limitMs);
      const out = called.value.consume((v) => (ctx.typeof(v) === 'string' ? ctx.getString(v) : 'null'));
      return { ok: true, output: out };
    } finally {
      // work a run queued (a dynamic import, a promise) would outlive it and
      // keep its realm alive: it runs now, under the same deadline, or the runtime is given up
      if (rt.hasPendingJob()) {
        const jobs = rt.executePendingJobs();
        if (jobs.error) jobs.error.dispose();
        if (rt.hasPendingJob()) this.broken = true;
      }
      rt.removeInterruptHandler();
      ctx.dispose();
      if (this.broken || this.runs >= RUNS_PER_RUNTIME) this.retire();
    }
  }

  private rt(): QuickJSRuntime {
    if (this.runtime) return this.runtime;
    const rt = this.module.newRuntime();
    rt.setMaxStackSize(STACK_BYTES);
    this.runtime = rt;
    this.runs = 0;
    return rt;
  }

  /** Drops the runtime; one QuickJS cannot free (objects still referenced) marks the sandbox broken. */
  retire(): void {
    try {
      this.spare?.dispose();
      if (!this.broken) this.runtime?.dispose();
    } catch {
      this.broken = true;
    }
    this.spare = null;
    this.runtime = null;
  }

  /**
   * Whether the heap has grown past half its room: a run that then fails
   * with a bare `null` ran out of memory (QuickJS could not even allocate
   * its InternalError; measured with a bomb of small objects).
   */
  private grown(): boolean {
    const m = this.memory;
    return m !== null && m.buffer.byteLength >= BASE_PAGES * PAGE_BYTES + this.limits.memoryBytes / 2;
  }

  private failure(thrown: unknown, limitMs: number): SandboxResult {
    const e = thrown as { name?: unknown; message?: unknown; lineNumber?: unknown; stack?: unknown } | null;
    const name = typeof e?.name === 'string' ? e.name : 'Error';
    const message = typeof e?.message === 'string' ? e.message : String(thrown);
    if (name === 'InternalError' && message === 'interrupted') {
      return { ok: false, code: 'transformation_timeout', message: `the transformation ran longer than ${limitMs} ms` };
    }
    if ((name === 'InternalError' && message === 'out of memory') || (thrown === null && this.grown())) {
      return { ok: false, code: 'transformation_memory', message: `the transformation used more than ${Math.round(this.limits.memoryBytes / 1048576)} MB` };
    }
    return { ok: false, code: 'transformation_error', message: `${name}: ${message}${where(e?.stack)}` };
  }
}

/**
 * Runs the interpreter's common paths once before the first real run:
 * V8 compiles WebAssembly functions on their first call, and a cold first
 * run took 300 ms (a 50 ms limit failed the first delivery of every
 * thread). Includes an allocation refused for want of memory.
 */
function warmUp(module: QuickJSWASMModule): void {
  const limits = { timeoutMs: 10_000, memoryBytes: 16 * 1024 * 1024 };
  const s = new Sandbox(module, limits);
  const input = JSON.stringify({ payload: { a: [1, 2.5, 'x', null, true], b: { c: 'd'.repeat(100) } }, headers: { h: 'v' } });
  const busy =
    '(w) => { const out = { ...w, payload: { ...w.payload, list: w.payload.a.map((x, i) => String(x) + i).filter(Boolean) } };' +
    ' for (const [k, v] of Object.entries(w.headers)) out.headers[k.toUpperCase()] = v.replace(/v/g, "w");' +
    ' try { JSON.parse("{"); } catch (e) { out.error = e.message; } out.set = [...new Set([1, 1, 2])].join(","); return out; }';
  for (let i = 0; i < 20; i++) s.run(busy, input, 'run');
  s.run('(w) => { throw new Error("x") }', input, 'run');
  s.run('(w) => "x".repeat(2 ** 29).length', input, 'run');
  s.run('(w) =>', input, 'check');
  s.retire();
}

/** ` (line N)` of the first frame in the transformation's source, if any. */
function where(stack: unknown): string {
  if (typeof stack !== 'string') return '';
  const m = /transformation\.js:(\d+)(?::(\d+))?/.exec(stack);
  return m ? ` (line ${m[1]})` : '';
}
