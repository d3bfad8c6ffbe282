import { execFile, execFileSync } from 'node:child_process';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './process.js';

const run = promisify(execFile);

/** The PostgreSQL binaries: HERALD_PG_BIN, or the newest /usr/lib/postgresql/<n>/bin. */
function binDir(): string {
  if (process.env.HERALD_PG_BIN) return process.env.HERALD_PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(root, v, 'bin', 'pg_ctl'))) return join(root, v, 'bin');
  throw new Error('PostgreSQL binaries not found (set HERALD_PG_BIN)');
}

/** Whether a private server can be started here (binaries present). */
export function privatePostgresAvailable(): boolean {
  try {
    binDir();
    return true;
  } catch {
    return false;
  }
}

/**
 * A PostgreSQL server of its own for one test file: initdb into a temporary
 * directory, a free loopback port, its unix socket in that directory. The
 * test may stop and start it at will; the machine's shared server (port
 * 5432) is never touched. PostgreSQL refuses to run as root, so when the
 * tests run as root every command runs as the `postgres` OS user.
 */
export class PrivatePostgres {
  private static live = new Set<PrivatePostgres>();
  private static hooked = false;

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
    private readonly asUser: string | null,
  ) {}

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** A connection URL (TCP on 127.0.0.1) to `database`. */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  static async create(): Promise<PrivatePostgres> {
    const bin = binDir();
    const asUser = process.getuid?.() === 0 ? 'postgres' : null;
    const dir = await mkdtemp(join(tmpdir(), 'herald-private-pg-'));
    if (asUser) {
      const uid = Number(execFileSync('id', ['-u', asUser]).toString().trim());
      const gid = Number(execFileSync('id', ['-g', asUser]).toString().trim());
      await chown(dir, uid, gid);
    }
    const port = await freePort();
    const p = new PrivatePostgres(dir, port, bin, asUser);
    PrivatePostgres.live.add(p);
    PrivatePostgres.hookExit();
    await p.cmd('initdb', ['-D', p.dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'], 120_000);
    await p.start();
    return p;
  }

  /** Runs a PostgreSQL binary (as the postgres user when we are root). */
  private async cmd(name: string, args: string[], timeoutMs = 60_000): Promise<string> {
    const exe = join(this.bin, name);
    const [file, argv] = this.asUser ? ['runuser', ['-u', this.asUser, '--', exe, ...args]] : [exe, args];
    const { stdout, stderr } = await run(file, argv, { timeout: timeoutMs, cwd: this.dir });
    return stdout + stderr;
  }

  /** Starts the server and waits until it accepts connections. */
  async start(): Promise<void> {
    const opts = [
      `-p ${this.port}`,
      `-k ${this.dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c max_connections=120',
      '-c shared_buffers=32MB',
      '-c log_min_messages=warning',
    ].join(' ');
    await this.cmd('pg_ctl', ['start', '-D', this.dataDir, '-l', join(this.dir, 'server.log'), '-o', opts, '-w', '-t', '60'], 90_000);
  }

  /** Stops the server: `fast` (clean shutdown, clients disconnected) or `immediate` (like a crash; recovery on next start). */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.cmd('pg_ctl', ['stop', '-D', this.dataDir, '-m', mode, '-w', '-t', '60'], 90_000);
  }

  async restart(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.stop(mode);
    await this.start();
  }

  /** Whether the server is running (pg_ctl status). */
  async running(): Promise<boolean> {
    try {
      await this.cmd('pg_ctl', ['status', '-D', this.dataDir], 30_000);
      return true;
    } catch {
      return false;
    }
  }

  /** Creates a database and returns its URL. */
  async createDatabase(name: string): Promise<string> {
    const c = new pg.Client({ connectionString: this.url() });
    await c.connect();
    try {
      await c.query(`create database ${pg.escapeIdentifier(name)}`);
    } finally {
      await c.end();
    }
    return this.url(name);
  }

  async log(): Promise<string> {
    return readFile(join(this.dir, 'server.log'), 'utf8').catch(() => '');
  }

  /** Stops the server (immediately) and removes its directory. */
  async destroy(): Promise<void> {
    PrivatePostgres.live.delete(this);
    if (existsSync(join(this.dataDir, 'postmaster.pid'))) await this.stop('immediate').catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }

  /** If the test process exits without afterAll (crash, ^C), still stop every private server. */
  private static hookExit(): void {
    if (PrivatePostgres.hooked) return;
    PrivatePostgres.hooked = true;
    process.once('exit', () => {
      for (const p of PrivatePostgres.live) {
        try {
          const exe = join(p.bin, 'pg_ctl');
          const args = ['stop', '-D', p.dataDir, '-m', 'immediate', '-w', '-t', '20'];
          if (p.asUser) execFileSync('runuser', ['-u', p.asUser, '--', exe, ...args], { stdio: 'ignore', timeout: 30_000 });
          else execFileSync(exe, args, { stdio: 'ignore', timeout: 30_000 });
        } catch {
          // already stopped
        }
      }
    });
  }
}
