import { readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** The lock file's name inside the data directory. */
export const LOCK_FILE = 'herald.lock';

/** What the lock file records about its holder. */
interface Holder {
  pid: number;
  hostname: string;
  startedAt: string;
  command: string;
}

/** Another process holds the data directory. */
export class DataDirInUseError extends Error {}

/** A lock file being written right now is given this long before it counts as abandoned. */
const HALF_WRITTEN_GRACE_MS = 5_000;

/**
 * One process per embedded data directory. PGlite is one connection in one
 * process: two processes on the same directory each saw only their own
 * writes, and after a restart one's tenants were gone. The first process
 * creates `herald.lock` (exclusively: `wx`) with its pid and host; a second
 * one finds it and stops with a message naming the holder. A lock whose
 * process no longer runs on this host (a crash, SIGKILL) is stale and
 * taken over. A lock of another host cannot be checked and is never taken
 * over: the message says which file to remove once that process is gone.
 */
export class DataDirLock {
  private released = false;

  private constructor(private readonly file: string) {}

  static async acquire(dir: string, command = process.argv.slice(2).join(' ')): Promise<DataDirLock> {
    const file = join(dir, LOCK_FILE);
    const me: Holder = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString(), command };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await writeFile(file, JSON.stringify(me) + '\n', { flag: 'wx', mode: 0o600 });
        return new DataDirLock(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = await readHolder(file);
      if (holder === 'gone') continue;
      if (holder === 'unreadable') {
        const age = Date.now() - (await stat(file).then((s) => s.mtimeMs, () => 0));
        if (age < HALF_WRITTEN_GRACE_MS) throw new DataDirInUseError(`data directory ${dir} is being opened by another process (${file} was just created)`);
      } else if (holder.hostname !== hostname()) {
        throw new DataDirInUseError(
          `data directory ${dir} is in use by process ${holder.pid} on host ${holder.hostname} (since ${holder.startedAt}); ` +
            `if that process is gone, remove ${file}`,
        );
      } else if (isRunning(holder.pid)) {
        throw new DataDirInUseError(
          `data directory ${dir} is in use by process ${holder.pid}${holder.command ? ` (herald ${holder.command})` : ''}, running since ${holder.startedAt}; ` +
            'stop it, or give this process another HERALD_DATA_DIR (the embedded database allows one process at a time; use DATABASE_URL for several)',
        );
      }
      // stale: its process is gone
      await unlink(file).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
    throw new DataDirInUseError(`could not lock data directory ${dir}: ${file} keeps reappearing`);
  }

  /** Removes the lock file (only if it is still ours). */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const holder = await readHolder(this.file);
    if (typeof holder === 'object' && holder.pid === process.pid && holder.hostname === hostname()) await unlink(this.file).catch(() => undefined);
  }
}

async function readHolder(file: string): Promise<Holder | 'gone' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw err;
  }
  try {
    const h = JSON.parse(text) as Partial<Holder>;
    if (typeof h.pid !== 'number' || typeof h.hostname !== 'string') return 'unreadable';
    return { pid: h.pid, hostname: h.hostname, startedAt: String(h.startedAt ?? 'unknown'), command: String(h.command ?? '') };
  } catch {
    return 'unreadable';
  }
}

/** Whether a process with this pid exists (EPERM: it exists, owned by another user). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
