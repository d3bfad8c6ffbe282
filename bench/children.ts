import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dropAllBenchDbs } from './db.js';
import { progress, sleep } from './util.js';

/** Every child process the bench started and that has not exited yet. */
const live = new Set<ChildProcess>();

export function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

/** Last resort (process 'exit' handler): SIGKILL whatever is left, synchronously. */
export function killAllSync(): void {
  for (const c of live) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export async function stopChild(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Stops every live child (SIGTERM, then SIGKILL). */
export async function stopAll(graceMs = 5_000): Promise<void> {
  await Promise.all([...live].map((c) => stopChild(c, graceMs)));
}

const HERALD_BIN = fileURLToPath(new URL('../../bin/herald.js', import.meta.url));

export interface HeraldProcess {
  role: string;
  child: ChildProcess;
  pid: number;
  /** API base URL (api and serve roles). */
  url: string | null;
  /** Last lines of its stdout/stderr, for error messages. */
  tail(): string;
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  env: Record<string, string>;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeArgs?: string[];
  startTimeoutMs?: number;
  /** Called with every line the process prints (stdout and stderr), e.g. to follow its log. */
  onLine?: (line: string) => void;
}

/**
 * Starts `herald <role>` and resolves once it printed its banner (and, for
 * roles with an API, its URL). Its output is drained continuously (a full
 * pipe would stall it) and the last lines are kept for diagnostics.
 */
let logStream: WriteStream | null | undefined;

/** BENCH_HERALD_LOG=<file>: every line of every Herald process, appended there (for a debugging run with HERALD_LOG_LEVEL=debug). */
export function heraldLog(): WriteStream | null {
  if (logStream === undefined) logStream = process.env.BENCH_HERALD_LOG ? createWriteStream(process.env.BENCH_HERALD_LOG, { flags: 'a' }) : null;
  return logStream;
}

/** BENCH_HERALD_NODE_ARGS: node flags for every Herald process and floor program, space-separated (for experiments with V8's settings). */
export const extraNodeArgs = (process.env.BENCH_HERALD_NODE_ARGS ?? '').split(' ').filter(Boolean);

export function spawnHerald(role: 'api' | 'worker' | 'serve', o: SpawnOptions): Promise<HeraldProcess> {
  const child = spawn(process.execPath, [...extraNodeArgs, ...(o.nodeArgs ?? []), HERALD_BIN, role], {
    env: { ...process.env, ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  const log = heraldLog();
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const l of chunk.toString('utf8').split('\n')) {
      if (!l) continue;
      o.onLine?.(l);
      log?.write(`${role}[${child.pid}] ${l}\n`);
      lines.push(l.length > 500 ? l.slice(0, 500) + '…' : l);
      if (lines.length > 60) lines.shift();
    }
  };
  const tail = () => lines.join('\n');
  const handle = (url: string | null): HeraldProcess => ({
    role,
    child,
    pid: child.pid ?? -1,
    url,
    tail,
    stop: (graceMs?: number) => stopChild(child, graceMs),
  });
  const wantsUrl = role !== 'worker';
  return new Promise((resolve, reject) => {
    let banner = false;
    let url: string | null = null;
    let settled = false;
    const timer = setTimeout(() => fail(new Error(`herald ${role} did not start within ${o.startTimeoutMs ?? 30_000} ms`)), o.startTimeoutMs ?? 30_000);
    function fail(err: Error) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${err.message}\n--- herald ${role} output ---\n${tail()}`));
    }
    function check() {
      if (settled || !banner || (wantsUrl && !url)) return;
      settled = true;
      clearTimeout(timer);
      resolve(handle(url));
    }
    child.stdout?.on('data', (chunk: Buffer) => {
      keep(chunk);
      const text = chunk.toString('utf8');
      if (/^Herald \S+ \(/m.test(text)) banner = true;
      const m = /listening: (http:\/\/\S+)/.exec(text);
      if (m?.[1]) url = m[1];
      check();
    });
    child.stderr?.on('data', keep);
    child.once('error', (err) => fail(err));
    child.once('exit', (code, signal) => fail(new Error(`herald ${role} exited early (code ${code}, signal ${signal})`)));
  });
}

/** Waits up to `ms` for a child to exit by itself. */
export async function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  return Promise.race([new Promise<boolean>((r) => child.once('exit', () => r(true))), sleep(ms).then(() => false)]);
}

/**
 * Makes a bench entry point leave nothing behind, however it ends: children
 * are killed on exit, and SIGINT/SIGTERM (or the returned `cleanup`) run
 * `first`, stop every child and drop the bench databases, once.
 */
export function cleanUpOnExit(first: () => Promise<void>): { cleanup: () => Promise<void>; readonly interrupted: boolean } {
  let cleaning: Promise<void> | null = null;
  const state = {
    interrupted: false,
    cleanup(): Promise<void> {
      cleaning ??= (async () => {
        await first().catch(() => undefined);
        await stopAll(5_000).catch(() => undefined);
        await dropAllBenchDbs().catch(() => undefined);
      })();
      return cleaning;
    },
  };
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      state.interrupted = true;
      progress(`${sig}: stopping children and dropping bench databases`);
      setTimeout(() => process.exit(130), 20_000).unref();
      void state.cleanup().finally(() => process.exit(130));
    });
  }
  return state;
}
