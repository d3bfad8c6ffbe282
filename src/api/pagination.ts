import { errors } from '../errors.js';

/** Opaque cursors: base64url JSON of the last row's sort key. */
export function encodeCursor(key: Record<string, string>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor<K extends string>(cursor: string | undefined, keys: readonly K[]): Record<K, string> | undefined {
  if (cursor === undefined) return undefined;
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    for (const k of keys) if (typeof v[k] !== 'string') throw new Error('bad key');
    // A timestamp key must be one this API wrote (toISOString), or PostgreSQL would reject it with a 500.
    const at = v['createdAt'];
    if (typeof at === 'string' && !(/^(?!0000)\d{4}-/.test(at) && new Date(at).toISOString() === at)) throw new Error('bad time');
    return v as Record<K, string>;
  } catch {
    throw errors.invalidField('cursor', 'is not a cursor this API returned');
  }
}

/** Builds `{data, nextCursor}`: a next cursor only when the page is full. */
export function pageOf<T>(rows: T[], limit: number, key: (last: T) => Record<string, string>) {
  const last = rows[rows.length - 1];
  return { data: rows, nextCursor: rows.length === limit && last !== undefined ? encodeCursor(key(last)) : null };
}
