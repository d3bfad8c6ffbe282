import { errors } from '../errors.js';
import type { TransformPool } from '../transform/pool.js';

/**
 * A transformation checked before it is saved: its source must evaluate to
 * a function in the sandbox that will run it (so a syntax error is named
 * with QuickJS's own message and line). 400 naming `field` otherwise;
 * null removes the transformation.
 */
export async function checkedTransformation(pool: TransformPool, source: string | null, field = 'transformation'): Promise<string | null> {
  if (source === null) return null;
  const r = await pool.check(source);
  if (r.ok) return source;
  if (r.code === 'transformation_busy') throw errors.rateLimited(`${r.message}; retry later`);
  throw errors.invalidField(field, r.message);
}
