import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/herald.js', import.meta.url));

/**
 * A running `herald listen` (the compiled binary, as users run it), with
 * what it printed so far and waits bounded in time.
 */
export class ListenCli {
  stdout = '';
  stderr = '';
  private readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => (this.stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  static start(args: string[], env: Record<string, string>): ListenCli {
    const child = spawn(process.execPath, [BIN, 'listen', ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    return new ListenCli(child);
  }

  /** Waits until stdout matches `re` (polling every 50 ms, at most `timeoutMs`); returns the match. */
  async waitFor(re: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const m = this.stdout.match(re);
      if (m) return m;
      if (this.child.exitCode !== null) throw new Error(`herald listen exited ${this.child.exitCode}: ${this.stdout}${this.stderr}`);
      if (Date.now() > until) throw new Error(`herald listen never printed ${re}: ${this.stdout}${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The signing secret it printed first. */
  async secret(): Promise<string> {
    const m = await this.waitFor(/^Signing secret: (whsec_\S+)$/m);
    await this.waitFor(/^Forwarding /m);
    return m[1]!;
  }

  get lines(): string[] {
    return this.stdout.split('\n').filter(Boolean);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }

  wait(): Promise<number | null> {
    return this.exited;
  }
}
