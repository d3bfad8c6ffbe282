import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from './helpers/herald.js';

/**
 * Issue 11, item 2: an envelope template must not multiply a payload. A
 * template places `{{payload}}` once, and the delivered body is never
 * larger than HERALD_MAX_BODY_BYTES (413 naming the limit, nothing stored).
 */
let herald: TestHerald;
const LIMIT = 64 * 1024;

beforeAll(async () => {
  herald = await startHerald({ maxBodyBytes: LIMIT });
});
afterAll(async () => herald?.stop());

async function eventCount(tenantId: string): Promise<number> {
  const r = await herald.running.db.query<{ n: number }>(`select count(*)::int as n from events where tenant_id = $1`, [tenantId]);
  return Number(r.rows[0]!.n);
}

describe('envelope amplification', () => {
  it('refuses a template that places the payload more than once, naming the field', async () => {
    const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`copy${i}`, '{{payload}}']));
    const r = await herald.api.post('/v1/tenants', { name: 'Amplifier', settings: { envelope: many } });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/^settings\.envelope: copy1: \{\{payload\}\} may appear at most once/);
    const et = await herald.api.post('/v1/event-types', { name: 'amp.twice', envelope: { a: '{{payload}}', b: ['{{payload}}'] } });
    expect(et.status).toBe(400);
    expect(et.body.error.message).toMatch(/^envelope: b\[0\]/);
    // once is fine
    expect((await herald.api.post('/v1/tenants', { name: 'Once', settings: { envelope: { data: '{{payload}}' } } })).status).toBe(201);
  });

  it('refuses a publish whose rendered body is over the limit with 413 naming it, and stores nothing', async () => {
    const t = await herald.api.post('/v1/tenants', { name: 'Big envelope', settings: { envelope: { data: '{{payload}}', note: 'n'.repeat(40_000) } } });
    expect(t.status).toBe(201);
    const T = t.body.id as string;
    const r = await herald.api.publish(T, 'amp.one', { blob: 'x'.repeat(30_000) });
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('payload_too_large');
    expect(r.body.error.message).toMatch(new RegExp(`over the limit of ${LIMIT} bytes \\(HERALD_MAX_BODY_BYTES\\)`));
    expect(r.body.error.message).toMatch(/envelope applied/);
    expect(await eventCount(T)).toBe(0);
    // under the limit it is accepted
    expect((await herald.api.publish(T, 'amp.one', { blob: 'x'.repeat(1_000) })).status).toBe(202);
  });

  it('caps a template stored before the rule (100 copies of the payload) at publish time', async () => {
    const T = await herald.api.tenant('Legacy amplifier');
    const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`copy${i}`, '{{payload}}']));
    await herald.running.db.query(`update tenants set settings = $2 where id = $1`, [T, JSON.stringify({ envelope: many })]);
    const r = await herald.api.publish(T, 'amp.legacy', { blob: 'x'.repeat(10_000) });
    expect(r.status).toBe(413);
    expect(r.body.error.message).toMatch(/would be \d+ bytes/);
    expect(await eventCount(T)).toBe(0);
  });

  it('names the event of a batch whose body is over the limit and writes none of the batch', async () => {
    const t = await herald.api.post('/v1/tenants', { name: 'Batch envelope', settings: { envelope: { data: '{{payload}}', pad: 'p'.repeat(30_000) } } });
    const T = t.body.id as string;
    const r = await herald.api.post(`/v1/tenants/${T}/events/batch`, {
      events: [
        { type: 'amp.batch', payload: { a: 1 } },
        { type: 'amp.batch', payload: { blob: 'y'.repeat(40_000) } },
      ],
    });
    expect(r.status).toBe(413);
    expect(r.body.error.message).toMatch(/^events\[1\]: /);
    expect(await eventCount(T)).toBe(0);
  });
});
