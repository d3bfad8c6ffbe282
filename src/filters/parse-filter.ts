/*
 * Payload filters: the JSON an endpoint's `filter` holds, checked and turned
 * into a tree. The grammar, at any path P of the event
 * `{id, type, createdAt, payload}` (the filter itself stands at the root):
 *
 *   condition := scalar | scalar[]            (P $eq scalar; an array only after $in/$nin)
 *              | {"$op": operand, …}         (every operator holds at P)
 *              | {"key": condition, …}       (each key's condition at P.key)
 *
 * Operators: $eq $neq $gt $gte $lt $lte $in $nin $startsWith $endsWith
 * $exists, and $and / $or (arrays of conditions at P) and $not (a condition
 * at P). An object mixes no operators with keys, so `{"amount": {"$gte":
 * 100}}` is never read as a key named `$gte`. A filter that cannot be
 * evaluated as written is refused with the path and the operator at fault.
 */

/** A value a filter compares with. Objects and arrays are never compared. */
export type FilterScalar = string | number | boolean | null;

/** The checked filter. Paths are lists of keys from the event's root. */
export type FilterNode =
  | { kind: 'and' | 'or'; items: FilterNode[] }
  | { kind: 'not'; item: FilterNode }
  | { kind: 'eq' | 'neq'; path: string[]; value: FilterScalar }
  | { kind: 'gt' | 'gte' | 'lt' | 'lte'; path: string[]; value: string | number }
  | { kind: 'in' | 'nin'; path: string[]; values: FilterScalar[] }
  | { kind: 'startsWith' | 'endsWith'; path: string[]; value: string }
  | { kind: 'exists'; path: string[]; value: boolean };

/** A filter that cannot be saved: `field` names where (e.g. `filter.payload.amount.$gte`). */
export class FilterError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** The event's fields; `payload` is the only one with paths below it. */
const EVENT_FIELDS = new Set(['id', 'type', 'createdAt', 'payload']);
const COMPARISONS = new Set(['$eq', '$neq', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$startsWith', '$endsWith', '$exists']);
const LOGICAL = new Set(['$and', '$or', '$not']);

/** Limits that keep a filter's SQL small and its evaluation cheap per (event, endpoint). */
export const FILTER_LIMITS = {
  /** Conditions (leaves) at most. */
  conditions: 100,
  /** Values in one $in / $nin at most. */
  inValues: 100,
  /** Nesting of keys and logical operators at most. */
  depth: 16,
  /** Characters of one key or string value at most. */
  stringLength: 1000,
  /** Characters of the whole filter as JSON at most. */
  jsonLength: 16_384,
} as const;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v: unknown): v is FilterScalar =>
  v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

class Parser {
  private conditions = 0;

  condition(v: unknown, path: string[], field: string, depth: number): FilterNode {
    if (depth > FILTER_LIMITS.depth) throw new FilterError(field, `nests deeper than ${FILTER_LIMITS.depth} levels`);
    if (!isPlainObject(v)) {
      if (Array.isArray(v)) throw new FilterError(field, 'an array matches nothing by itself: use {"$in": [...]}');
      return this.leaf('$eq', v, path, field);
    }
    const keys = Object.keys(v);
    if (keys.length === 0) throw new FilterError(field, 'an empty object is no condition: remove it, or use {"$exists": true}');
    const ops = keys.filter((k) => k.startsWith('$'));
    if (ops.length > 0 && ops.length < keys.length) {
      throw new FilterError(field, `mixes operators (${ops.join(', ')}) with keys (${keys.filter((k) => !k.startsWith('$')).join(', ')}); nest the keys or use $and`);
    }
    const items: FilterNode[] = [];
    for (const k of keys) {
      const at = `${field}.${k}`;
      if (k.startsWith('$')) {
        if (LOGICAL.has(k)) items.push(this.logical(k, v[k], path, at, depth));
        else if (COMPARISONS.has(k)) {
          if (path.length === 0) throw new FilterError(at, `${k} needs a path: the event itself is an object (e.g. {"payload": {"amount": {"${k}": …}}})`);
          items.push(this.leaf(k, v[k], path, at));
        } else throw new FilterError(at, `unknown operator ${k}; use one of ${[...COMPARISONS, ...LOGICAL].join(' ')}`);
      } else {
        this.key(k, path, at);
        items.push(this.condition(v[k], [...path, k], at, depth + 1));
      }
    }
    return items.length === 1 ? items[0]! : { kind: 'and', items };
  }

  private key(k: string, path: string[], field: string): void {
    if (k.length > FILTER_LIMITS.stringLength) throw new FilterError(field, `key longer than ${FILTER_LIMITS.stringLength} characters`);
    if (k.includes('\u0000')) throw new FilterError(field, 'keys cannot contain U+0000');
    if (path.length === 0 && !EVENT_FIELDS.has(k)) {
      throw new FilterError(field, `the event has no field ${k}: filter on id, type, createdAt or payload (e.g. {"payload": {"${k}": …}})`);
    }
    if (path.length === 1 && path[0] !== 'payload') throw new FilterError(field, `${path[0]} is a string: there are no paths below it`);
  }

  private logical(op: string, v: unknown, path: string[], field: string, depth: number): FilterNode {
    if (op === '$not') {
      if (!isPlainObject(v) && !isScalar(v)) throw new FilterError(field, '$not takes a condition (an object or a value)');
      return { kind: 'not', item: this.condition(v, path, field, depth + 1) };
    }
    if (!Array.isArray(v) || v.length === 0) throw new FilterError(field, `${op} takes a non-empty array of conditions`);
    const items = v.map((c, i) => {
      if (!isPlainObject(c)) throw new FilterError(`${field}[${i}]`, `each ${op} entry is an object`);
      return this.condition(c, path, `${field}[${i}]`, depth + 1);
    });
    return { kind: op === '$and' ? 'and' : 'or', items };
  }

  private leaf(op: string, v: unknown, path: string[], field: string): FilterNode {
    if (++this.conditions > FILTER_LIMITS.conditions) throw new FilterError(field, `a filter holds at most ${FILTER_LIMITS.conditions} conditions`);
    if (path.length === 0) throw new FilterError(field, 'a value needs a path: the event itself is an object');
    const str = (s: unknown): s is string => {
      if (typeof s !== 'string') return false;
      if (s.length > FILTER_LIMITS.stringLength) throw new FilterError(field, `string longer than ${FILTER_LIMITS.stringLength} characters`);
      if (s.includes('\u0000')) throw new FilterError(field, 'strings cannot contain U+0000');
      return true;
    };
    switch (op) {
      case '$eq':
      case '$neq':
        if (!isScalar(v)) throw new FilterError(field, `${op} compares with a string, number, boolean or null`);
        str(v);
        return { kind: op === '$eq' ? 'eq' : 'neq', path, value: v };
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte':
        if (!(typeof v === 'number' && Number.isFinite(v)) && !str(v)) throw new FilterError(field, `${op} compares with a number or a string`);
        return { kind: op.slice(1) as 'gt' | 'gte' | 'lt' | 'lte', path, value: v };
      case '$in':
      case '$nin': {
        if (!Array.isArray(v) || v.length === 0) throw new FilterError(field, `${op} takes a non-empty array of values`);
        if (v.length > FILTER_LIMITS.inValues) throw new FilterError(field, `${op} takes at most ${FILTER_LIMITS.inValues} values`);
        const values = v.map((x, i) => {
          if (!isScalar(x)) throw new FilterError(`${field}[${i}]`, `${op} values are strings, numbers, booleans or null`);
          str(x);
          return x;
        });
        return { kind: op === '$in' ? 'in' : 'nin', path, values };
      }
      case '$startsWith':
      case '$endsWith':
        if (!str(v)) throw new FilterError(field, `${op} takes a string`);
        return { kind: op === '$startsWith' ? 'startsWith' : 'endsWith', path, value: v };
      case '$exists':
        if (typeof v !== 'boolean') throw new FilterError(field, '$exists takes true or false');
        return { kind: 'exists', path, value: v };
      default:
        throw new FilterError(field, `unknown operator ${op}`);
    }
  }
}

/**
 * Checks a filter and returns its tree, or null for an empty filter (every
 * event matches). Throws FilterError naming the field under `prefix`.
 */
export function parseFilter(filter: unknown, prefix = 'filter'): FilterNode | null {
  if (!isPlainObject(filter)) throw new FilterError(prefix, 'must be a JSON object (or null for no filter)');
  if (Object.keys(filter).length === 0) return null;
  if (JSON.stringify(filter).length > FILTER_LIMITS.jsonLength) throw new FilterError(prefix, `at most ${FILTER_LIMITS.jsonLength} characters of JSON`);
  return new Parser().condition(filter, [], prefix, 0);
}
