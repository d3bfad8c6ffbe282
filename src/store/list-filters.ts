/**
 * SQL conditions shared by the event log and the delivery list. Each takes
 * the column and the parameter number, so one statement can use several.
 */

/**
 * An event type filter as endpoints subscribe: an exact name, `prefix.*`
 * (every type under the prefix, at any depth) or `*` (every type); null
 * for none. starts_with, not LIKE: `_` in a type name is a LIKE wildcard.
 */
export function typeMatches(column: string, param: number): string {
  const p = `$${param}::text`;
  return `(${p} is null or ${p} = '*' or ${column} = ${p} or (right(${p}, 2) = '.*' and starts_with(${column}, left(${p}, -1))))`;
}

/** `column` within [since, until): either bound may be null. */
export function within(column: string, sinceParam: number, untilParam: number): string {
  return `($${sinceParam}::timestamptz is null or ${column} >= $${sinceParam}) and ($${untilParam}::timestamptz is null or ${column} < $${untilParam})`;
}
