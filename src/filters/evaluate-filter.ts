import type { FilterNode, FilterScalar } from './parse-filter.js';

/*
 * A filter evaluated in TypeScript, with the semantics compile-filter.ts
 * gives PostgreSQL (property tests run both on the same events):
 * - a path walks objects only; a missing key or a step into a non-object
 *   (arrays included) means "no value";
 * - $eq is true when the value is there, of the same JSON type and equal;
 *   $neq is its negation (so true for a missing value), likewise $nin of $in;
 * - $gt $gte $lt $lte compare numbers with numbers and strings with strings
 *   (by Unicode code point); anything else is false;
 * - $startsWith and $endsWith are false for non-strings;
 * - $exists: whether the path has a value (JSON null is a value).
 * Fan-out does not run this: it answers the filter test route with a reason.
 */

/** The event as filters see it (the API's shape). */
export interface FilterEvent {
  id: string;
  type: string;
  createdAt: string;
  payload: unknown;
}

export interface FilterVerdict {
  matches: boolean;
  /** Why, in a sentence: the first condition that decided it. */
  reason: string;
}

const NONE = Symbol('no value');
type Found = unknown | typeof NONE;

function lookup(doc: unknown, path: string[]): Found {
  let v: unknown = doc;
  for (const k of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.hasOwn(v, k)) return NONE;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

const jsonType = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

function equal(v: Found, x: FilterScalar): boolean {
  return v !== NONE && jsonType(v) === jsonType(x) && v === x;
}

/** -1, 0, 1, or null when the two cannot be ordered (other types). */
function order(v: Found, x: string | number): number | null {
  if (typeof v === 'number' && typeof x === 'number') return v < x ? -1 : v > x ? 1 : 0;
  if (typeof v === 'string' && typeof x === 'string') return Math.sign(Buffer.compare(Buffer.from(v), Buffer.from(x)));
  return null;
}

const show = (v: Found): string => (v === NONE ? 'nothing' : JSON.stringify(v));
const name = (path: string[]): string => path.join('.');
const SIGN = { gt: '>', gte: '≥', lt: '<', lte: '≤' } as const;

function evaluate(f: FilterNode, doc: unknown): FilterVerdict {
  switch (f.kind) {
    case 'and': {
      for (const i of f.items) {
        const r = evaluate(i, doc);
        if (!r.matches) return r;
      }
      return { matches: true, reason: f.items.length === 1 ? evaluate(f.items[0]!, doc).reason : 'every condition holds' };
    }
    case 'or': {
      const reasons: string[] = [];
      for (const i of f.items) {
        const r = evaluate(i, doc);
        if (r.matches) return r;
        reasons.push(r.reason);
      }
      return { matches: false, reason: `no $or branch holds (${reasons.join('; ')})` };
    }
    case 'not': {
      const r = evaluate(f.item, doc);
      return { matches: !r.matches, reason: `$not: ${r.reason}` };
    }
    default:
      return leaf(f, doc);
  }
}

function leaf(f: Exclude<FilterNode, { kind: 'and' | 'or' | 'not' }>, doc: unknown): FilterVerdict {
  const v = lookup(doc, f.path);
  const p = name(f.path);
  const verdict = (matches: boolean, what: string) => ({ matches, reason: `${p} is ${show(v)}: ${matches ? '' : 'not '}${what}` });
  switch (f.kind) {
    case 'eq':
      return verdict(equal(v, f.value), `equal to ${JSON.stringify(f.value)}`);
    case 'neq':
      return verdict(!equal(v, f.value), `other than ${JSON.stringify(f.value)}`);
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const o = order(v, f.value);
      const ok = o !== null && (f.kind === 'gt' ? o > 0 : f.kind === 'gte' ? o >= 0 : f.kind === 'lt' ? o < 0 : o <= 0);
      return verdict(ok, `${SIGN[f.kind]} ${JSON.stringify(f.value)}${o === null && v !== NONE ? ' (a ' + jsonType(v) + ' is not compared with a ' + jsonType(f.value) + ')' : ''}`);
    }
    case 'in':
      return verdict(f.values.some((x) => equal(v, x)), `one of ${JSON.stringify(f.values)}`);
    case 'nin':
      return verdict(!f.values.some((x) => equal(v, x)), `outside ${JSON.stringify(f.values)}`);
    case 'startsWith':
      return verdict(typeof v === 'string' && v.startsWith(f.value), `a string starting with ${JSON.stringify(f.value)}`);
    case 'endsWith':
      return verdict(typeof v === 'string' && v.endsWith(f.value), `a string ending with ${JSON.stringify(f.value)}`);
    case 'exists':
      return { matches: (v !== NONE) === f.value, reason: `${p} ${v === NONE ? 'is missing' : 'exists'}${(v !== NONE) === f.value ? '' : ` ($exists: ${f.value})`}` };
  }
}

/** Whether the event matches (null filter: every event), and why. */
export function evaluateFilter(f: FilterNode | null, event: FilterEvent): FilterVerdict {
  if (!f) return { matches: true, reason: 'the endpoint has no filter' };
  return evaluate(f, event);
}
