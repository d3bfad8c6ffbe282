import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cleanUpOnExit, stopChild, track } from './children.js';
import { nowMs } from './util.js';
import type { ReceiverArrivals, ReceiverHello, ReceiverReply, ReceiverRequest, ReceiverStats } from './receiver-protocol.js';

type Pending = { resolve: (r: ReceiverReply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };
type Req = ReceiverRequest extends infer R ? (R extends { seq: number } ? Omit<R, 'seq'> : never) : never;

/** The parent's handle on the receiver child process. */
export class Receiver {
  private seq = 0;
  private readonly pending = new Map<number, Pending>();

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.on('message', (m: ReceiverReply) => {
      const p = this.pending.get(m.seq);
      if (!p) return;
      this.pending.delete(m.seq);
      clearTimeout(p.timer);
      p.resolve(m);
    });
    child.once('exit', (code, signal) => {
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error(`receiver exited (code ${code}, signal ${signal})`));
      }
      this.pending.clear();
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  static async start(timeoutMs = 10_000): Promise<Receiver> {
    const child = fork(fileURLToPath(new URL('./receiver-process.js', import.meta.url)), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    track(child);
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error('receiver did not start in time'));
      }, timeoutMs);
      child.once('message', (m: ReceiverHello) => {
        clearTimeout(timer);
        if (m.type === 'ready') resolve(m.port);
        else reject(new Error(`receiver failed: ${m.message}`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`receiver exited early (code ${code})`));
      });
    });
    return new Receiver(child, port);
  }

  private rpc(req: Req, timeoutMs = 30_000): Promise<ReceiverReply> {
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new Error(`receiver did not answer ${req.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(seq, { resolve, reject, timer });
      this.child.send({ ...req, seq } as ReceiverRequest);
    });
  }

  /** Zeroes the counters; `record` keeps every arrival (id and time) until the next reset. */
  async reset(record = false): Promise<void> {
    await this.rpc({ type: 'reset', record });
  }

  /** While down, every /flaky/… request is answered 503 (a receiver outage). */
  async setDown(down: boolean): Promise<void> {
    await this.rpc({ type: 'down', down });
  }

  async stats(): Promise<ReceiverStats> {
    const r = await this.rpc({ type: 'stats' });
    if (r.type !== 'stats') throw new Error('unexpected receiver reply');
    return r.stats;
  }

  /** Waits until `distinct` deliveries arrived (2xx); throws after `timeoutMs`. Calls `onTick` about every 2 s. */
  async waitFor(distinct: number, timeoutMs: number, onTick?: (s: ReceiverStats) => void): Promise<ReceiverStats> {
    const deadline = nowMs() + timeoutMs;
    let lastTick = nowMs();
    for (;;) {
      const s = await this.stats();
      if (s.distinct >= distinct) return s;
      if (nowMs() > deadline) throw new Error(`only ${s.distinct}/${distinct} deliveries arrived within ${Math.round(timeoutMs / 1000)} s`);
      if (onTick && nowMs() - lastTick > 2000) {
        lastTick = nowMs();
        onTick(s);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async arrivals(): Promise<ReceiverArrivals> {
    const r = await this.rpc({ type: 'arrivals' });
    if (r.type !== 'arrivals') throw new Error('unexpected receiver reply');
    return r.arrivals;
  }

  /**
   * Receiver clock minus bench clock, in ms (both are nowMs()), from the
   * IPC round trip with the smallest delay; subtract it from arrival times.
   */
  async clockOffset(samples = 7): Promise<{ offsetMs: number; rttMs: number }> {
    let best = { offsetMs: 0, rttMs: Number.POSITIVE_INFINITY };
    for (let i = 0; i < samples; i++) {
      const t1 = nowMs();
      const r = await this.rpc({ type: 'clock' });
      const t2 = nowMs();
      if (r.type !== 'clock') throw new Error('unexpected receiver reply');
      if (t2 - t1 < best.rttMs) best = { offsetMs: r.now - (t1 + t2) / 2, rttMs: t2 - t1 };
    }
    return best;
  }

  async stop(): Promise<void> {
    if (this.child.connected) this.child.disconnect();
    await stopChild(this.child, 3_000);
  }
}

/**
 * A scenario's main program with a receiver of its own: `fn` runs with it,
 * then (or on SIGINT/SIGTERM) the receiver, every child and every bench
 * database go (cleanUpOnExit).
 */
export async function withReceiver(fn: (receiver: Receiver) => Promise<void>): Promise<void> {
  let receiver: Receiver | null = null;
  const exit = cleanUpOnExit(async () => receiver?.stop());
  try {
    receiver = await Receiver.start();
    await fn(receiver);
  } finally {
    await exit.cleanup();
  }
}
