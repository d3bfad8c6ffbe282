/** What commands print: a table for people, the API's JSON for scripts. */

/** One column of a table: its heading and how to show a row's value. */
export interface Column<T> {
  header: string;
  value: (row: T) => string | number | boolean | null | undefined;
}

/** Left-aligned columns separated by two spaces; `(none)` for an empty list. */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  if (rows.length === 0) return '(none)\n';
  const cells = rows.map((r) => columns.map((c) => cell(c.value(r))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(columns.map((c) => c.header.toUpperCase())), ...cells.map(line)].join('\n') + '\n';
}

/** `key: value` lines for one object. */
export function details(pairs: readonly [string, unknown][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${(k + ':').padEnd(width + 1)} ${typeof v === 'object' && v !== null ? JSON.stringify(v) : cell(v as string)}`).join('\n') + '\n';
}

function cell(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined || v === '') return '-';
  return String(v).replace(/[\r\n\t]+/g, ' ');
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value ?? null, null, 2) + '\n');
}

/** One JSON value on one line (a stream of records for scripts). */
export function printJsonLine(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}

export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n');
}

/** Prints `value` as JSON with --json, else what `human` makes of it. */
export function show<T>(json: boolean, value: T, human: (v: T) => string): void {
  if (json) printJson(value);
  else print(human(value));
}
