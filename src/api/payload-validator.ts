import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Db } from '../db/db.js';
import type { Template } from '../delivery/envelope.js';
import { getEventType } from '../store/event-types.js';
import { errors } from './errors.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

interface Cached {
  validate: ValidateFunction | null;
  envelope: Template | null;
  expires: number;
}

/**
 * Checks published payloads against their event type's JSON Schema and
 * knows each type's envelope template. Compiled validators are cached per
 * type for a few seconds, so a schema change applies within `ttlMs` on
 * every API process without a query per event.
 */
export class PayloadValidator {
  private readonly ajv = addFormats(new Ajv({ allErrors: true, strict: false }));
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly db: Db,
    private readonly ttlMs = 5_000,
  ) {}

  /** Compiles a schema or throws a 400 naming the problem (used when an event type is saved). */
  compile(schema: Record<string, unknown>): ValidateFunction {
    try {
      return this.ajv.compile(schema);
    } catch (err) {
      throw errors.invalidField('schema', `is not a valid JSON Schema: ${(err as Error).message}`);
    }
  }

  private async load(type: string): Promise<Cached> {
    const now = Date.now();
    let hit = this.cache.get(type);
    if (!hit || hit.expires <= now) {
      const et = await getEventType(this.db, type);
      hit = { validate: et?.schema ? this.compile(et.schema) : null, envelope: et?.envelope ?? null, expires: now + this.ttlMs };
      if (this.cache.size > 5_000) this.cache.clear();
      this.cache.set(type, hit);
    }
    return hit;
  }

  /** The envelope template of an event type, if it has one. */
  async envelopeOf(type: string): Promise<Template | null> {
    return (await this.load(type)).envelope;
  }

  async check(type: string, payload: unknown): Promise<void> {
    const hit = await this.load(type);
    if (hit.validate && !hit.validate(payload)) {
      const details = (hit.validate.errors ?? []).map((e) => ({
        field: 'payload' + e.instancePath.replaceAll('/', '.'),
        message: e.message ?? 'is invalid',
      }));
      throw errors.unprocessable(`payload does not match the schema of ${type}: ${details[0]?.field} ${details[0]?.message}`, details);
    }
  }

  forget(type: string): void {
    this.cache.delete(type);
  }
}
