import type { FilterNode, FilterScalar } from './parse-filter.js';

/*
 * A filter compiled, once when the endpoint is saved, into a PostgreSQL
 * SQL/JSON path predicate that the publish statement evaluates per (event,
 * endpoint) with `jsonb_path_match(event, path, vars)`: no JavaScript on
 * the publish path, and the endpoints that do not match never become rows.
 *
 * How each condition is written, and why:
 * - Strict mode. Lax mode unwraps arrays on every accessor and comparison,
 *   so `{"payload": {"tags": "x"}}` would match `"tags": ["x", "y"]` and a
 *   path through an array would fan out over its items; in strict mode a
 *   path names one value and an array is a value like any other.
 * - Every condition is `exists($ ? (<comparison on @.path>))`. In strict
 *   mode a missing key, a path through a non-object, or a comparison of two
 *   JSON types (`"5" == 5`, `"a" < 1`) is an error, which a filter
 *   expression turns into "unknown" and drops the item: `exists` then says
 *   false. So each condition is true or false, never unknown, and `!`,
 *   `&&`, `||` combine them in plain two-valued logic. The same semantics
 *   are written in TypeScript in evaluate-filter.ts, and property tests
 *   hold the two together.
 * - Values are never written into the path: each is a jsonpath variable
 *   (`$v0`, `$v1`, …) passed as jsonb, so a value cannot change the path's
 *   syntax, and numbers keep every digit jsonb gives them (payloads are
 *   compared as stored: numeric, exact beyond 2^53). Keys cannot be
 *   variables: they are written as string literals with every character
 *   but [A-Za-z0-9_] as a \uXXXX escape. $endsWith is `like_regex`, whose
 *   pattern cannot be a variable either: the string is regex-escaped (every
 *   ASCII character but letters and digits behind a backslash, which ARE
 *   reads as that character) and then written as an escaped literal.
 * - $in is an OR of `==`, not `== $array[*]`: in strict mode one comparison
 *   of two types in a sequence makes the whole comparison unknown.
 */

/** The compiled filter: the jsonpath text and its variables. */
export interface CompiledFilter {
  path: string;
  vars: Record<string, FilterScalar>;
}

/** A jsonpath string literal of any text: letters, digits and `_` as they are, everything else `\uXXXX` (UTF-16 units). */
export function jsonpathString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    out += /[A-Za-z0-9_]/.test(c) ? c : '\\u' + s.charCodeAt(i).toString(16).padStart(4, '0');
  }
  return out + '"';
}

/** A POSIX ARE matching `s` literally at the end of the string. */
function endsWithRegex(s: string): string {
  return s.replace(/[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]/g, (c) => '\\' + c) + '$';
}

class Compiler {
  readonly vars: Record<string, FilterScalar> = {};
  private n = 0;

  private variable(v: FilterScalar): string {
    const name = `v${this.n++}`;
    this.vars[name] = v;
    return '$' + name;
  }

  private exists(predicate: string): string {
    return `exists($ ? (${predicate}))`;
  }

  node(f: FilterNode): string {
    switch (f.kind) {
      case 'and':
      case 'or':
        return '(' + f.items.map((i) => this.node(i)).join(f.kind === 'and' ? ' && ' : ' || ') + ')';
      case 'not':
        return `!(${this.node(f.item)})`;
      case 'exists': {
        // the path alone: an error (missing) is unknown, dropped by the filter
        const e = this.exists(`exists(${at(f.path)})`);
        return f.value ? e : `!(${e})`;
      }
      case 'eq':
        return this.exists(`${at(f.path)} == ${this.variable(f.value)}`);
      case 'neq':
        return `!(${this.exists(`${at(f.path)} == ${this.variable(f.value)}`)})`;
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
        return this.exists(`${at(f.path)} ${CMP[f.kind]} ${this.variable(f.value)}`);
      case 'in':
      case 'nin': {
        const p = at(f.path);
        const any = this.exists(f.values.map((v) => `${p} == ${this.variable(v)}`).join(' || '));
        return f.kind === 'in' ? any : `!(${any})`;
      }
      case 'startsWith':
        return this.exists(`${at(f.path)} starts with ${this.variable(f.value)}`);
      case 'endsWith':
        return this.exists(`${at(f.path)} like_regex ${jsonpathString(endsWithRegex(f.value))}`);
    }
  }
}

const CMP = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

/** `@."a"."b"`: the path below the filtered item, keys as escaped literals. */
const at = (path: string[]): string => '@' + path.map((k) => '.' + jsonpathString(k)).join('');

/** The jsonpath predicate (strict mode) and variables of a checked filter. */
export function compileFilter(f: FilterNode): CompiledFilter {
  const c = new Compiler();
  const body = c.node(f);
  return { path: `strict ${body}`, vars: c.vars };
}
