import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from './helpers/herald.js';

let herald: TestHerald;

beforeAll(async () => {
  herald = await startHerald({ apiRateLimitPerSecond: 5 });
});
afterAll(async () => {
  await herald?.stop();
});

describe('API rate limit per token', () => {
  it('answers 429 with Retry-After past the limit, per token, and lets the token in again', async () => {
    const t = await herald.api.tenant();
    const token = (await herald.api.post(`/v1/tenants/${t}/tokens`, {})).body.token as string;
    await new Promise((r) => setTimeout(r, 1_100)); // a fresh window for the admin token too
    const api = herald.api.as(token);
    const results = await Promise.all(Array.from({ length: 12 }, () => api.get(`/v1/tenants/${t}/endpoints`)));
    const limited = results.filter((r) => r.status === 429);
    expect(results.filter((r) => r.status === 200).length).toBeLessThanOrEqual(5);
    expect(limited.length).toBeGreaterThanOrEqual(7);
    expect(limited[0]!.body.error.code).toBe('rate_limited');
    expect(Number(limited[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // another token has its own budget
    expect((await herald.api.get(`/v1/tenants/${t}`)).status).toBe(200);
    // health and metrics are never limited
    const health = await Promise.all(Array.from({ length: 10 }, () => fetch(`${herald.url}/healthz`)));
    expect(health.every((r) => r.status === 200)).toBe(true);
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await api.get(`/v1/tenants/${t}/endpoints`)).status).toBe(200);
  });
});
