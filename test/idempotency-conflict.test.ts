import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startHerald, type TestHerald } from './helpers/herald.js';

/**
 * Issue 11, item 9: an event id published again with another type or
 * payload is a 409 `idempotency_conflict` (before: 202 replayed, and the
 * new content silently dropped). An identical replay stays 202.
 */
let herald: TestHerald;
let T: string;

beforeAll(async () => {
  herald = await startHerald();
  T = await herald.api.tenant('Idempotency');
});
afterAll(async () => herald?.stop());

async function stored(id: string): Promise<{ type: string; payload: string } | undefined> {
  const r = await herald.running.db.query<{ type: string; payload: string }>(`select type, payload::text as payload from events where tenant_id = $1 and id = $2`, [T, id]);
  return r.rows[0];
}
const count = async () => Number((await herald.running.db.query<{ n: number }>(`select count(*)::int as n from events where tenant_id = $1`, [T])).rows[0]!.n);

describe('reusing an event id', () => {
  it('replays an identical publish (key order and number spelling aside) and refuses different content with 409', async () => {
    expect((await herald.api.publish(T, 'order.paid', { a: 1, b: { c: [1, 2] } }, 'evt_same')).status).toBe(202);
    const again = await herald.api.publish(T, 'order.paid', { a: 1, b: { c: [1, 2] } }, 'evt_same');
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const reordered = await herald.api.post(`/v1/tenants/${T}/events`, '{"id":"evt_same","payload":{"b":{"c":[1,2.0]},"a":1},"type":"order.paid"}');
    expect(reordered.status).toBe(202);

    const otherPayload = await herald.api.publish(T, 'order.paid', { a: 2, b: { c: [1, 2] } }, 'evt_same');
    expect(otherPayload.status).toBe(409);
    expect(otherPayload.body.error.code).toBe('idempotency_conflict');
    expect(otherPayload.body.error.message).toMatch(/^id: event evt_same was already published with another type or payload/);
    const otherType = await herald.api.publish(T, 'order.refunded', { a: 1, b: { c: [1, 2] } }, 'evt_same');
    expect(otherType.status).toBe(409);
    expect(await stored('evt_same')).toEqual({ type: 'order.paid', payload: '{"a":1,"b":{"c":[1,2]}}' });
  });

  it('compares big integers digit for digit', async () => {
    const body = (n: string) => `{"id":"evt_big","type":"order.paid","payload":{"amount":${n}}}`;
    expect((await herald.api.post(`/v1/tenants/${T}/events`, body('123456789012345678901234567890'))).status).toBe(202);
    expect((await herald.api.post(`/v1/tenants/${T}/events`, body('123456789012345678901234567890'))).status).toBe(202);
    expect((await herald.api.post(`/v1/tenants/${T}/events`, body('123456789012345678901234567891'))).status).toBe(409);
  });

  it('refuses a whole batch, naming the event, when one id was used for other content', async () => {
    const before = await count();
    const r = await herald.api.post(`/v1/tenants/${T}/events/batch`, {
      events: [
        { id: 'evt_new_1', type: 'order.paid', payload: { a: 1 } },
        { id: 'evt_same', type: 'order.paid', payload: { a: 3 } },
      ],
    });
    expect(r.status).toBe(409);
    expect(r.body.error.message).toMatch(/^events\[1\]\.id: event evt_same/);
    expect(await count()).toBe(before);

    const twice = await herald.api.post(`/v1/tenants/${T}/events/batch`, {
      events: [
        { id: 'evt_dup', type: 'order.paid', payload: { a: 1 } },
        { id: 'evt_dup', type: 'order.paid', payload: { a: 2 } },
      ],
    });
    expect(twice.status).toBe(409);
    expect(twice.body.error.message).toMatch(/^events\[1\]\.id: event evt_dup/);
    expect(await count()).toBe(before);

    const same = await herald.api.post(`/v1/tenants/${T}/events/batch`, {
      events: [
        { id: 'evt_same', type: 'order.paid', payload: { b: { c: [1, 2] }, a: 1 } },
        { id: 'evt_new_2', type: 'order.paid', payload: { a: 1 } },
      ],
    });
    expect(same.status).toBe(202);
    expect(same.body.data.map((e: { replayed: boolean }) => e.replayed)).toEqual([true, false]);
  });
});

/*
 * The batch route's check runs inside its publish statement, which has three
 * forms: the deliveries matched by the API and handed to the worker of the
 * process (`serve`), matched by the API and left in a list for the workers
 * (an API process alone), and matched by PostgreSQL (a tenant with a payload
 * filter). Each must refuse the batch, write nothing, and name the first
 * conflicting event, also when every id of the batch exists already.
 */
describe('a batch reusing ids, in each form of the publish statement', () => {
  const forms = [
    { name: 'matched by the API, handed to the worker (serve)', roles: { api: true, worker: true }, filter: false },
    { name: 'matched by the API, listed for the workers (api alone)', roles: { api: true, worker: false }, filter: false },
    { name: 'matched by PostgreSQL (a payload filter)', roles: { api: true, worker: false }, filter: true },
  ];
  for (const form of forms) {
    it(form.name, async () => {
      const h = await startHerald({}, form.roles);
      try {
        const t = await h.api.tenant('Batch replays');
        await h.api.endpoint(t, { url: 'http://127.0.0.1:9/hook', ...(form.filter ? { filter: { payload: { a: { $gte: 0 } } } } : {}) });
        const rows = async () =>
          (
            await h.running.db.query<{ n: string }>(
              `select (select count(*) from events where tenant_id = $1) + (select count(*) from deliveries where tenant_id = $1)
                    + (select count(*) from fanouts where tenant_id = $1) as n`,
              [t],
            )
          ).rows[0]!.n;
        const batch = (events: { id?: string; a: number }[]) =>
          h.api.post(`/v1/tenants/${t}/events/batch`, { events: events.map((e) => ({ ...(e.id ? { id: e.id } : {}), type: 'order.paid', payload: { a: e.a } })) });

        expect((await batch([{ id: 'evt_a', a: 1 }, { id: 'evt_b', a: 2 }, { id: 'evt_c', a: 3 }])).status).toBe(202);
        const before = await rows();

        // new ids beside two that conflict: the first conflict is named, and nothing is written
        const mixed = await batch([{ id: 'evt_new', a: 1 }, { a: 5 }, { id: 'evt_c', a: 30 }, { id: 'evt_b', a: 20 }]);
        expect(mixed.status).toBe(409);
        expect(mixed.body.error.code).toBe('idempotency_conflict');
        expect(mixed.body.error.message).toMatch(/^events\[2\]\.id: event evt_c was already published/);
        expect(mixed.body.error.details).toEqual([{ field: 'events[2].id', message: 'already used by an event with another type or payload' }]);
        expect(await rows()).toBe(before);

        // every id exists (a retried batch) and one differs: refused as well
        const retried = await batch([{ id: 'evt_a', a: 1 }, { id: 'evt_b', a: 2 }, { id: 'evt_c', a: 4 }]);
        expect(retried.status).toBe(409);
        expect(retried.body.error.message).toMatch(/^events\[2\]\.id: event evt_c/);
        expect(await rows()).toBe(before);

        // the same batch again: every event replayed, nothing written
        const same = await batch([{ id: 'evt_a', a: 1 }, { id: 'evt_b', a: 2 }, { id: 'evt_c', a: 3 }]);
        expect(same.status).toBe(202);
        expect(same.body.data.map((e: { id: string; replayed: boolean; deliveries: number }) => [e.id, e.replayed, e.deliveries])).toEqual([
          ['evt_a', true, 1],
          ['evt_b', true, 1],
          ['evt_c', true, 1],
        ]);
        expect(await rows()).toBe(before);

        // replays beside new events: the new ones are written, once
        const grown = await batch([{ id: 'evt_a', a: 1 }, { id: 'evt_d', a: 4 }]);
        expect(grown.status).toBe(202);
        expect(grown.body.data.map((e: { replayed: boolean }) => e.replayed)).toEqual([true, false]);
        expect((await h.running.db.query(`select 1 from events where tenant_id = $1 and id = 'evt_d'`, [t])).rows).toHaveLength(1);
      } finally {
        await h.stop();
      }
    }, 60_000);
  }
});

/*
 * The batch statement probes a batch's named ids and, when none exists,
 * inserts without an arbiter (store/events.ts, EventIds). An id that a
 * publish still uncommitted holds is not seen by the probe: the insert waits
 * for that publish, fails when it commits, and the statement runs again with
 * ON CONFLICT. Only PostgreSQL runs two publishes at once.
 */
describe.runIf(process.env.DATABASE_URL)('a batch naming an id that a publish still running holds', () => {
  for (const same of [true, false]) {
    it(same ? 'replays the event once the other publish commits' : 'refuses the batch with 409 once the other publish commits', async () => {
      const h = await startHerald({}, { api: true, worker: false });
      const holder = new pg.Client({ connectionString: h.database.url });
      await holder.connect();
      try {
        const t = await h.api.tenant('Racing ids');
        await h.api.endpoint(t, { url: 'http://127.0.0.1:9/hook' });
        await holder.query('begin');
        await holder.query(`insert into events (tenant_id, id, type, payload) values ($1, 'evt_race', 'order.paid', '{"a":1}')`, [t]);
        const publish = h.api.post(`/v1/tenants/${t}/events/batch`, {
          events: [
            { id: 'evt_race', type: 'order.paid', payload: { a: same ? 1 : 2 } },
            { id: 'evt_after', type: 'order.paid', payload: { a: 3 } },
          ],
        });
        // the publish waits on the holder's row: wait until PostgreSQL shows it waiting, then commit (asked on
        // another connection: within the holder's transaction, pg_stat_activity keeps its first answer)
        const waiting = async () =>
          Number((await h.running.db.query<{ n: number }>(`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`)).rows[0]!.n);
        for (let i = 0; i < 200 && (await waiting()) === 0; i++) await new Promise((r) => setTimeout(r, 25));
        expect(await waiting()).toBe(1);
        await holder.query('commit');
        const r = await publish;
        if (same) {
          expect(r.status).toBe(202);
          expect(r.body.data.map((e: { id: string; replayed: boolean }) => [e.id, e.replayed])).toEqual([
            ['evt_race', true],
            ['evt_after', false],
          ]);
        } else {
          expect(r.status).toBe(409);
          expect(r.body.error.message).toMatch(/^events\[0\]\.id: event evt_race was already published/);
        }
        const { rows } = await h.running.db.query<{ id: string }>(`select id from events where tenant_id = $1 order by id`, [t]);
        expect(rows.map((e) => e.id)).toEqual(same ? ['evt_after', 'evt_race'] : ['evt_race']);
        const lists = await h.running.db.query<{ n: number }>(`select coalesce(sum(deliveries), 0)::int as n from fanouts where tenant_id = $1`, [t]);
        expect(lists.rows[0]!.n).toBe(same ? 1 : 0);
      } finally {
        await holder.query('rollback').catch(() => undefined);
        await holder.end();
        await h.stop();
      }
    }, 60_000);
  }
});
