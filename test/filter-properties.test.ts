import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFilter } from '../src/filters/compile-filter.js';
import { evaluateFilter, type FilterEvent } from '../src/filters/evaluate-filter.js';
import { parseFilter } from '../src/filters/parse-filter.js';
import { event, filter } from './helpers/filter-arbitraries.js';
import { startHerald, type TestHerald } from './helpers/herald.js';

/*
 * The database evaluates payload filters (compiled to jsonpath) and
 * TypeScript explains them (evaluate-filter.ts): random filters on random
 * events must get the same verdict from both, on PostgreSQL and on PGlite
 * (whichever this run uses: DATABASE_URL set or not), first through
 * jsonb_path_match alone, then through the publish statement itself.
 */

let herald: TestHerald;
beforeAll(async () => {
  herald = await startHerald({}, { api: true, worker: false });
});
afterAll(async () => {
  await herald?.stop();
});

const reference = (f: Record<string, unknown>, e: FilterEvent) => evaluateFilter(parseFilter(f), e).matches;

describe('payload filters: SQL/JSON path against the TypeScript reference', () => {
  it('agree on random filters and events (jsonb_path_match)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(filter, event), { minLength: 1, maxLength: 40 }), async (pairs) => {
        const compiled = pairs.map(([f]) => compileFilter(parseFilter(f)!));
        const res = await herald.running.db.query<{ m: boolean | null }>(
          `select jsonb_path_match(d::jsonb, p::jsonpath, v::jsonb, true) as m
             from unnest($1::text[], $2::text[], $3::text[]) with ordinality as x(d, p, v, o) order by o`,
          [pairs.map(([, e]) => JSON.stringify(e)), compiled.map((c) => c.path), compiled.map((c) => JSON.stringify(c.vars))],
        );
        pairs.forEach(([f, e], i) => {
          const sql = res.rows[i]!.m;
          expect(sql, `filter ${JSON.stringify(f)}\nevent ${JSON.stringify(e)}\npath ${compiled[i]!.path}`).toBe(reference(f, e));
        });
      }),
      { numRuns: 300 },
    );
  });

  it('agree through the publish statement: each event reaches exactly the endpoints whose filter it matches', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(filter, { minLength: 1, maxLength: 6 }),
        fc.array(event, { minLength: 1, maxLength: 10 }),
        async (filters, events) => {
          const t = await herald.api.tenant();
          const endpoints: string[] = [];
          for (const f of filters) {
            const r = await herald.api.post(`/v1/tenants/${t}/endpoints`, { url: 'http://127.0.0.1:9/never', filter: f });
            expect(r.status, JSON.stringify(r.body)).toBe(201);
            endpoints.push(r.body.id);
          }
          const unfiltered = (await herald.api.post(`/v1/tenants/${t}/endpoints`, { url: 'http://127.0.0.1:9/all' })).body.id as string;
          // ids are unique per tenant; createdAt is the publish time, so the reference reads it back
          const batch = events.map((e, i) => ({ id: `evt_${i}`, type: e.type || 'x', payload: e.payload }));
          const pub = await herald.api.post(`/v1/tenants/${t}/events/batch`, { events: batch });
          expect(pub.status, JSON.stringify(pub.body)).toBe(202);
          const rows = await herald.running.db.query<{ event_id: string; endpoint_id: string; created_at: Date }>(
            `select d.event_id, d.endpoint_id, e.created_at from deliveries d join events e on e.tenant_id = d.tenant_id and e.id = d.event_id
              where d.tenant_id = $1`,
            [t],
          );
          const got = new Set(rows.rows.map((r) => `${r.event_id} ${r.endpoint_id}`));
          const createdAt = new Map(rows.rows.map((r) => [r.event_id, new Date(r.created_at).toISOString()]));
          for (const b of batch) {
            expect(got.has(`${b.id} ${unfiltered}`)).toBe(true);
            const doc = { id: b.id, type: b.type, createdAt: createdAt.get(b.id)!, payload: b.payload };
            filters.forEach((f, i) => {
              expect(got.has(`${b.id} ${endpoints[i]}`), `filter ${JSON.stringify(f)}\nevent ${JSON.stringify(doc)}`).toBe(reference(f, doc));
            });
          }
        },
      ),
      { numRuns: 15 },
    );
  });
});
