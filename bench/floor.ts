import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { extraNodeArgs, heraldLog, track } from './children.js';
import { freePort } from './util.js';

/**
 * Starts a floor (the minimal program the bench compares Herald with) on a
 * scenario's database: floor-server.ts for intake and latency,
 * floor-steady-server.ts for the steady state; resolves once it listens.
 * BENCH_HERALD_NODE_ARGS and BENCH_HERALD_LOG apply to it as to Herald's processes.
 */
export async function startFloor(o: { databaseUrl: string; receiverUrl?: string; program?: 'floor-server' | 'floor-steady-server'; env?: Record<string, string>; execArgv?: string[] }): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [...extraNodeArgs, ...(o.execArgv ?? []), fileURLToPath(new URL(`./${o.program ?? 'floor-server'}.js`, import.meta.url))], {
    env: { ...process.env, DATABASE_URL: o.databaseUrl, PORT: String(port), RECEIVER_URL: o.receiverUrl ?? '', ...o.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  track(child);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('floor server did not start in 10 s')), 10_000);
    child.stdout?.on('data', (c: Buffer) => {
      const text = c.toString();
      heraldLog()?.write(text.replace(/^(?=.)/gm, `floor[${child.pid}] `));
      if (text.includes('listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`floor server exited (code ${code})`));
    });
  });
  return { child, url: `http://127.0.0.1:${port}` };
}
