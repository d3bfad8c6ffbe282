import { parentPort, workerData } from 'node:worker_threads';
import type { SandboxLimits, SandboxReply, SandboxRequest } from './protocol.js';
import { Sandbox } from './sandbox.js';

/**
 * A transformation thread: loads QuickJS once, then runs one request at a
 * time and prepares the next run's context while idle.
 */
const port = parentPort!;
const sandbox = await Sandbox.load(workerData as SandboxLimits);
sandbox.prepare();
port.on('message', (m: SandboxRequest) => {
  let reply: SandboxReply;
  let fatal = false;
  try {
    reply = { id: m.id, ...sandbox.run(m.source, m.input, m.mode) };
  } catch (err) {
    // an abort inside the WebAssembly module leaves it unusable
    fatal = true;
    reply = { id: m.id, ok: false, code: 'transformation_error', message: `the sandbox failed: ${(err as Error).message.slice(0, 200)}` };
  }
  port.postMessage(reply);
  // the pool replaces a thread that exits
  if (fatal || sandbox.broken) process.exit(1);
  setImmediate(() => sandbox.prepare());
});
port.postMessage({ ready: true } satisfies SandboxReply);
