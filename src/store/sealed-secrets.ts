import type { Queryable } from '../db/db.js';

/**
 * Ids of the keys that encrypted the endpoint secrets stored now (current
 * and previous secrets, broker URLs), from their `hs1:<key id>:` prefix (see
 * security/secret-box.ts). Empty when nothing is encrypted.
 */
export async function sealingKeyIds(q: Queryable): Promise<string[]> {
  const res = await q.query<{ key_id: string }>(
    `select distinct split_part(s, ':', 2) as key_id from (
       select secret as s from endpoints
       union all
       select o ->> 'secret' from endpoints, jsonb_array_elements(old_secrets) o
       union all
       select destination ->> 'url' from endpoints where destination is not null
     ) sealed where s like 'hs1:%' order by 1`,
  );
  return res.rows.map((r) => r.key_id);
}
