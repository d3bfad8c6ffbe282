import { createHash } from 'node:crypto';
import type { ValidateFunction } from 'ajv';
import type { Db } from '../db/db.js';
import type { Template } from '../delivery/envelope.js';
import { getEventType } from '../store/event-types.js';
import { errors } from '../errors.js';
import { LookupCache } from '../store/lookup-cache.js';
import { schemaAjv, type FieldProblem } from './schema-compiler.js';
import { ValidationRunner, ValidationTimeoutError } from './validation-runner.js';

interface Cached {
  /** The type's schema and the key that names it in the validation thread, or null without a schema. */
  schema: { key: string; schema: Record<string, unknown> } | null;
  envelope: Template | null;
}

/**
 * Checks published payloads against their event type's JSON Schema and
 * knows each type's envelope template. Types are cached for a few seconds,
 * so a schema change applies within `ttlMs` on every API process without a
 * query per event. Validation runs in a thread with a time budget
 * (validation-runner.ts), on linear-time patterns (schema-compiler.ts).
 */
export class PayloadValidator {
  private readonly ajv = schemaAjv();
  private readonly cache: LookupCache<Cached>;
  private readonly runner: ValidationRunner;

  constructor(
    private readonly db: Db,
    /** Longest the validation of one publish may take. (Default: 1000 ms) */
    budgetMs = 1_000,
    ttlMs = 5_000,
  ) {
    this.runner = new ValidationRunner(budgetMs);
    this.cache = new LookupCache(ttlMs, 5_000);
  }

  /** Compiles a schema or throws a 400 naming the problem (used when an event type is saved). */
  compile(schema: Record<string, unknown>): ValidateFunction {
    try {
      return this.ajv.compile(schema);
    } catch (err) {
      throw errors.invalidField('schema', `is not a valid JSON Schema: ${(err as Error).message}`);
    }
  }

  private load(type: string): Promise<Cached> {
    return this.cache.get(type, async () => {
      const et = await getEventType(this.db, type);
      const schema = et?.schema ? { key: `${type}:${createHash('sha256').update(JSON.stringify(et.schema)).digest('base64url')}`, schema: et.schema } : null;
      return { schema, envelope: et?.envelope ?? null };
    });
  }

  /** The envelope template of an event type, if it has one. */
  async envelopeOf(type: string): Promise<Template | null> {
    return (await this.load(type)).envelope;
  }

  /** Checks one payload; 422 naming the first field that does not match. */
  async check(type: string, payload: unknown): Promise<void> {
    await this.checkAll([{ type, payload }], false);
  }

  /**
   * Checks several payloads within one time budget; 422 naming the first
   * that does not match (with `events[i].` in front for a batch).
   */
  async checkAll(events: { type: string; payload: unknown }[], batch = true): Promise<void> {
    const loaded = await Promise.all(events.map((e) => this.load(e.type)));
    const items: { index: number; key: string; schema: Record<string, unknown>; payload: unknown }[] = [];
    loaded.forEach((c, index) => {
      if (c.schema) items.push({ index, key: c.schema.key, schema: c.schema.schema, payload: events[index]!.payload });
    });
    if (items.length === 0) return;
    let results: (FieldProblem[] | null)[];
    try {
      results = await this.runner.validate(items.map(({ key, schema, payload }) => ({ key, schema, payload })));
    } catch (err) {
      if (err instanceof ValidationTimeoutError) {
        throw errors.validationTimeout(err.budgetMs);
      }
      throw errors.unprocessable(`the schema of this event type cannot be used: ${(err as Error).message}`);
    }
    const at = results.findIndex((r) => r !== null);
    if (at < 0) return;
    const { index } = items[at]!;
    const details = results[at]!;
    const where = batch ? `events[${index}].` : '';
    const type = events[index]!.type;
    throw errors.unprocessable(`${where}payload does not match the schema of ${type}: ${details[0]?.field} ${details[0]?.message}`, details);
  }

  forget(type: string): void {
    this.cache.forget(type);
  }

  async close(): Promise<void> {
    await this.runner.close();
  }
}
