import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from './helpers/herald.js';

/**
 * Issue 11, item 1: an admin's event-type schema must not let a publish
 * freeze the process. Patterns run on a linear-time engine (RE2), and the
 * validation of one publish runs in a thread under a time budget, so
 * `/healthz` answers while a costly validation is cut off.
 */
let herald: TestHerald;
let T: string;

/**
 * The budget of one publish's validation. It counts the thread's first
 * compile of a schema as well as the check, and a CI run with four suites
 * on two cores once took longer than 300 ms for the first pattern case, so
 * the budget is wide; the quadratic case below runs for minutes without it.
 */
const BUDGET_MS = 2_000;

beforeAll(async () => {
  herald = await startHerald({ validationTimeoutMs: BUDGET_MS });
  T = await herald.api.tenant('ReDoS');
});
afterAll(async () => herald?.stop());

/** Time of a /healthz round trip started while `during` runs. */
async function healthzDuring<T>(during: Promise<T>): Promise<{ result: T; healthMs: number }> {
  await new Promise((r) => setTimeout(r, 20));
  const t0 = Date.now();
  const h = await fetch(`${herald.url}/healthz`);
  const healthMs = Date.now() - t0;
  expect(h.status).toBe(200);
  return { result: await during, healthMs };
}

/*
 * Time bounds here separate linear from exponential, not fast from slow:
 * backtracking over 5,000 characters would take longer than the universe
 * has, so the bounds are generous enough for a loaded CI machine (a run
 * with four test suites sharing 2 cores took 3.5 s for the first case).
 */
describe('event-type schemas cannot freeze Herald', () => {
  it('matches a catastrophic-backtracking pattern in linear time', async () => {
    const created = await herald.api.post('/v1/event-types', {
      name: 'redos.pattern',
      schema: { type: 'object', properties: { x: { type: 'string', pattern: '^(a+)+$' } } },
    });
    expect(created.status).toBe(201);
    const t0 = Date.now();
    const { result, healthMs } = await healthzDuring(herald.api.publish(T, 'redos.pattern', { x: 'a'.repeat(5_000) + '!' }));
    expect(result.status).toBe(422);
    expect(result.body.error.message).toMatch(/payload\.x/);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(healthMs).toBeLessThan(3_000);
    // a matching value still passes
    expect((await herald.api.publish(T, 'redos.pattern', { x: 'a'.repeat(5_000) })).status).toBe(202);
  });

  it('applies the linear engine to patternProperties too', async () => {
    const created = await herald.api.post('/v1/event-types', {
      name: 'redos.keys',
      schema: { type: 'object', patternProperties: { '^(a|aa)+$': { type: 'number' } } },
    });
    expect(created.status).toBe(201);
    const t0 = Date.now();
    const r = await herald.api.publish(T, 'redos.keys', { ['a'.repeat(3_000) + '!']: 'not checked', ['a'.repeat(40)]: 'x' });
    expect(r.status).toBe(422);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('refuses patterns a linear-time engine cannot run, naming the schema', async () => {
    for (const pattern of ['^(a)\\1$', 'a(?=b)', '(?<!x)y']) {
      const r = await herald.api.post('/v1/event-types', { name: 'redos.backref', schema: { properties: { x: { pattern } } } });
      expect(r.status, pattern).toBe(400);
      expect(r.body.error.message).toMatch(/^schema: .*linear-time/);
    }
    expect((await herald.api.get('/v1/event-types/redos.backref')).status).toBe(404);
  });

  it('cuts off a validation that runs past its budget with a 422 while the server keeps answering', async () => {
    // uniqueItems over objects is quadratic in ajv: 20,000 items is minutes of CPU
    const created = await herald.api.post('/v1/event-types', {
      name: 'redos.unique',
      schema: { type: 'object', properties: { items: { type: 'array', uniqueItems: true } } },
    });
    expect(created.status).toBe(201);
    const items = Array.from({ length: 20_000 }, (_, i) => ({ a: i }));
    const t0 = Date.now();
    const { result, healthMs } = await healthzDuring(herald.api.publish(T, 'redos.unique', { items }));
    expect(result.status).toBe(422);
    expect(result.body.error.code).toBe('validation_timeout');
    expect(result.body.error.message).toContain(`${BUDGET_MS} ms`);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(healthMs).toBeLessThan(3_000);
    // the next publish gets a fresh validation thread
    expect((await herald.api.publish(T, 'redos.unique', { items: [{ a: 1 }, { a: 2 }] })).status).toBe(202);
    expect((await herald.api.publish(T, 'redos.unique', { items: [{ a: 1 }, { a: 1 }] })).status).toBe(422);
  });

  it('validates a batch within one budget and names the event that fails', async () => {
    const r = await herald.api.post(`/v1/tenants/${T}/events/batch`, {
      events: [
        { type: 'redos.pattern', payload: { x: 'aaa' } },
        { type: 'redos.pattern', payload: { x: 'aab' } },
      ],
    });
    expect(r.status).toBe(422);
    expect(r.body.error.message).toMatch(/^events\[1\]\.payload/);
  });
});
