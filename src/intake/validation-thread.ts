import { parentPort } from 'node:worker_threads';
import type { ValidateFunction } from 'ajv';
import { problemsOf, schemaAjv } from './schema-compiler.js';
import type { ValidationReply, ValidationRequest } from './validation-protocol.js';

/**
 * The thread that runs payload validation (see validation-runner.ts): it
 * keeps the compiled schemas and answers one request at a time. If a
 * request runs past its budget, the main thread terminates this thread.
 */
const ajv = schemaAjv();
const compiled = new Map<string, ValidateFunction>();

parentPort?.on('message', (req: ValidationRequest) => {
  const fresh: string[] = [];
  let reply: ValidationReply;
  try {
    const results = req.items.map((item) => {
      let validate = compiled.get(item.key);
      if (!validate) {
        if (!item.schema) throw Object.assign(new Error(`schema ${item.key} is not compiled here`), { missing: item.key });
        if (compiled.size >= 1_000) compiled.clear();
        validate = ajv.compile(item.schema);
        compiled.set(item.key, validate);
        fresh.push(item.key);
      }
      return validate(item.payload) ? null : problemsOf(validate);
    });
    reply = { id: req.id, ok: true, results, compiled: fresh };
  } catch (err) {
    const missing = (err as { missing?: string }).missing;
    reply = { id: req.id, ok: false, message: (err as Error).message, ...(missing ? { missing } : {}) };
  }
  parentPort?.postMessage(reply);
});
parentPort?.postMessage({ ready: true } satisfies ValidationReply);
