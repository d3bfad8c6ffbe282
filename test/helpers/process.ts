import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/herald.js', import.meta.url));

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `pred` every 50 ms until it holds; returns how long that took, or throws after `timeoutMs`. */
export async function waitUntil(pred: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const t0 = Date.now();
  while (!(await pred())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
  return Date.now() - t0;
}

/** SIGKILLs every process still running (SIGCONT first, in case it was stopped) and waits up to 5 s for each to go. */
export async function killAll(procs: HeraldProcess[]): Promise<void> {
  for (const p of procs) {
    if (!p.running) continue;
    p.kill('SIGCONT');
    p.kill('SIGKILL');
  }
  await Promise.all(procs.map((p) => Promise.race([p.wait(), sleep(5_000)])));
}

/** A `herald` CLI process (the compiled build, as users run it). */
export class HeraldProcess {
  output = '';
  private exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  /** Starts `herald <command>` and waits until it has printed its banner. */
  static start(command: string, env: Record<string, string>, timeoutMs = 20_000): Promise<HeraldProcess> {
    return HeraldProcess.launch({ args: [command], env, timeoutMs });
  }

  /** Starts a `herald` (this build, or `bin`: an installed one) in `cwd` and waits until it has printed its banner. */
  static async launch(o: { args: string[]; env?: Record<string, string>; bin?: string; cwd?: string; timeoutMs?: number }): Promise<HeraldProcess> {
    const command = o.args.join(' ');
    const timeoutMs = o.timeoutMs ?? 20_000;
    const child = spawn(process.execPath, [o.bin ?? BIN, ...o.args], {
      env: { PATH: process.env.PATH ?? '', HERALD_LOG_LEVEL: 'warn', ...o.env },
      cwd: o.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const p = new HeraldProcess(child);
    const until = Date.now() + timeoutMs;
    while (!/^Herald /m.test(p.output)) {
      if (child.exitCode !== null) throw new Error(`herald ${command} exited ${child.exitCode}: ${p.output}`);
      if (Date.now() > until) {
        child.kill('SIGKILL');
        throw new Error(`herald ${command} did not start: ${p.output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return p;
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Neither exited nor killed yet. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Exit code, or null when killed by a signal. */
  wait(): Promise<number | null> {
    return this.exited;
  }
}

/*
 * A port for a herald process to listen on. Not one the kernel hands out
 * for listen(0) or an outgoing connection: such a port, free when checked,
 * could be taken by any other test's socket before the process bound it
 * ("port … is in use", seen in CI). Ports below the ephemeral range are
 * never handed out that way; one is picked at random there and checked.
 */
const ephemeralLow = (() => {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
})();

export async function freePort(): Promise<number> {
  const low = 10_000;
  const high = ephemeralLow - 1;
  for (let attempt = 0; attempt < 50 && high > low; attempt++) {
    const port = await bindable(low + Math.floor(Math.random() * (high - low + 1)));
    if (port !== null) return port;
  }
  return (await bindable(0))!;
}

/** A loopback port nothing listens on (deliveries and connections to it are refused): a free port, which no other socket is handed. */
export const closedPort = freePort;

/** `port` (0: one the kernel picks) if it can be bound on 127.0.0.1 right now, else null. */
function bindable(port: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' && port !== 0 ? resolve(null) : reject(err)));
    s.listen(port, '127.0.0.1', () => {
      const bound = (s.address() as { port: number }).port;
      s.close(() => resolve(bound));
    });
  });
}

/** Runs `herald` to completion (for config errors and `migrate`). */
export function runHerald(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}
