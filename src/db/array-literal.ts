/*
 * PostgreSQL array literals built here, passed as text to `$n::text[]`
 * (and `::int[]`, `::float8[]`, `::bool[]`, `::timestamptz[]`) parameters.
 *
 * pg serializes a JavaScript array element by element through a generic
 * escaper (a string concatenated per element, a regular expression per
 * string). These builders do one `join` per column and escape only what
 * must be. For the final outcome write's columns (128 rows, the headers left
 * to JSON.stringify, whose job structured values are) they cost 1.7-2.0 µs
 * a row against 2.2-3.9 µs with pg's serializer and 2.3 µs for the whole
 * batch as JSON (docs/benchmarks.md, twenty-second pass).
 *
 * Every element is quoted, so no value is read as NULL or split on a comma
 * or a brace; inside quotes an array literal escapes only `"` and `\`.
 * Strings must hold no NUL character (PostgreSQL text cannot: see clean()
 * in delivery/queue/record.ts).
 */

const SPECIAL = /["\\]/g;

const quoted = (s: string): string => `"${s.includes('"') || s.includes('\\') ? s.replace(SPECIAL, '\\$&') : s}"`;

/** `{"a","b",NULL}` for a `text[]` (or `json[]`, `timestamptz[]`) parameter. */
export function textArray(values: readonly (string | null)[]): string {
  return `{${values.map((v) => (v === null ? 'NULL' : quoted(v))).join(',')}}`;
}

/** `{1,NULL,3}` for an `int[]` parameter (integers only). */
export function intArray(values: readonly (number | null)[]): string {
  return `{${values.map((v) => (v === null ? 'NULL' : String(Math.trunc(v)))).join(',')}}`;
}

/** `{1.5,NULL,1764900000123}` for a `float8[]` parameter (finite numbers, written exactly: JavaScript's shortest round-trip form). */
export function numberArray(values: readonly (number | null)[]): string {
  return `{${values.map((v) => (v === null ? 'NULL' : String(v))).join(',')}}`;
}

/** `{t,f}` for a `bool[]` parameter. */
export function boolArray(values: readonly boolean[]): string {
  return `{${values.map((v) => (v ? 't' : 'f')).join(',')}}`;
}
