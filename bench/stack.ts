import { randomBytes } from 'node:crypto';
import { spawnHerald, type HeraldProcess } from './children.js';
import { createBenchDb, dropBenchDb, type BenchDb } from './db.js';
import { HeraldClient } from './herald-client.js';
import { freePort } from './util.js';

/** One fresh database and the environment Herald processes of a scenario run share. */
export interface Stack {
  db: BenchDb;
  env: Record<string, string>;
  token: string;
  procs: HeraldProcess[];
  start(role: 'api' | 'worker' | 'serve', nodeArgs?: string[], onLine?: (line: string) => void): Promise<HeraldProcess>;
  client(proc: HeraldProcess, connections: number): HeraldClient;
  /** `err` with the last output lines of every Herald process appended (for failures mid-scenario). */
  explain(err: unknown): Error;
  /** Stops every Herald process (SIGTERM, graceful) and drops the database. */
  close(): Promise<void>;
}

export interface StackOptions {
  /** Prefix of the database name. (Default: herald_bench) */
  dbPrefix?: string;
  /** Extra environment for every Herald process (overrides the bench defaults). */
  env?: Record<string, string>;
}

export async function openStack(o: StackOptions = {}): Promise<Stack> {
  const db = await createBenchDb(o.dbPrefix);
  const token = 'bench_' + randomBytes(24).toString('base64url');
  const port = await freePort();
  const env: Record<string, string> = {
    DATABASE_URL: db.url,
    PORT: String(port),
    HERALD_HOST: '127.0.0.1',
    HERALD_ADMIN_TOKEN: token,
    HERALD_DEV: '1',
    HERALD_LOG_LEVEL: process.env.HERALD_LOG_LEVEL ?? 'warn',
    // Key that encrypts endpoint secrets at rest (required with DATABASE_URL); ignored by versions without it.
    HERALD_SECRET_KEYS: process.env.HERALD_SECRET_KEYS ?? randomBytes(32).toString('base64'),
    // The bench's clients share one token: the per-token API limit would measure itself, not Herald.
    HERALD_API_RATE_LIMIT_PER_SECOND: '0',
    ...o.env,
  };
  const procs: HeraldProcess[] = [];
  const clients: HeraldClient[] = [];
  return {
    db,
    env,
    token,
    procs,
    async start(role, nodeArgs, onLine) {
      const p = await spawnHerald(role, { env, nodeArgs, onLine });
      procs.push(p);
      return p;
    },
    client(proc, connections) {
      if (!proc.url) throw new Error(`herald ${proc.role} has no API`);
      const c = new HeraldClient(proc.url, token, connections);
      clients.push(c);
      return c;
    },
    explain(err) {
      const base = err instanceof Error ? err : new Error(String(err));
      const tails = procs.map((p) => `--- herald ${p.role} (pid ${p.pid}) output ---\n${p.tail() || '(none)'}`).join('\n');
      if (tails) base.message += `\n${tails}`;
      return base;
    },
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      // Workers first (they write outcomes through the database), then the rest.
      for (const p of procs.filter((x) => x.role === 'worker')) await p.stop();
      await Promise.all(procs.map((p) => p.stop()));
      await dropBenchDb(db.name);
    },
  };
}
