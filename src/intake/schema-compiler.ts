import { Ajv, type ValidateFunction } from 'ajv';
import type { RegExpEngine } from 'ajv/dist/types/index.js';
import addFormatsModule from 'ajv-formats';
import { RE2JS } from 're2js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** A schema pattern the linear-time engine cannot run (backreferences, lookaround). */
export class UnsupportedPatternError extends Error {}

/**
 * `pattern` and `patternProperties` of event-type schemas are written by an
 * admin but run on every tenant's payloads. JavaScript's backtracking
 * engine takes exponential time on patterns like `^(a+)+$`: 28 characters
 * took 1–8 s and 5,000 never finished, freezing the whole process. RE2
 * (re2js, a pure-JS port) matches in time linear in the input: 50,000
 * characters against `^(a+)+$` take about 70 ms. It has no backreferences
 * or lookaround; schemas using them are refused when they are saved.
 *
 * Rejected: re2-wasm (a WASM module per process, and its async start does
 * not fit ajv's synchronous compile); the native `re2` binding (a compiler
 * at install time).
 */
export const linearRegExp: RegExpEngine = Object.assign(
  (pattern: string, _flags: string) => {
    let re: ReturnType<typeof RE2JS.compile>;
    try {
      re = RE2JS.compile(pattern);
    } catch (err) {
      throw new UnsupportedPatternError(
        `pattern ${JSON.stringify(pattern)} cannot run on a linear-time engine (RE2: no backreferences or lookaround): ${(err as Error).message}`,
      );
    }
    return { test: (s: string) => re.matcher(s).find() };
  },
  { code: 'linearRegExp' },
);

/** The ajv that compiles event-type schemas: every error reported, RE2 patterns, standard formats. */
export function schemaAjv(): Ajv {
  return addFormats(new Ajv({ allErrors: true, strict: false, code: { regExp: linearRegExp } }));
}

/** A field and what is wrong with it, as the API reports validation errors. */
export interface FieldProblem {
  field: string;
  message: string;
}

/** The problems of a failed validation, with `payload.a.b` paths. */
export function problemsOf(validate: ValidateFunction): FieldProblem[] {
  return (validate.errors ?? []).map((e) => ({
    field: 'payload' + e.instancePath.replaceAll('/', '.'),
    message: e.message ?? 'is invalid',
  }));
}
