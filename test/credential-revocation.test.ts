import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from './helpers/herald.js';

/**
 * Issue 11, item 3: no credential outlives its owner. Portal links and API
 * tokens are bound to the tenant they were issued for (not just its id),
 * tokens can be listed and revoked, a tenant's portal links revoked all at
 * once, and each revocation is audited.
 */
let herald: TestHerald;

beforeAll(async () => {
  herald = await startHerald();
});
afterAll(async () => herald?.stop());

async function portalLink(tenantId: string, body: Record<string, unknown> = {}): Promise<string> {
  const r = await herald.api.post(`/v1/tenants/${tenantId}/portal-links`, body);
  expect(r.status).toBe(201);
  return r.body.token as string;
}

async function apiToken(tenantId: string, body: Record<string, unknown> = {}): Promise<{ id: string; token: string }> {
  const r = await herald.api.post(`/v1/tenants/${tenantId}/tokens`, body);
  expect(r.status).toBe(201);
  return { id: r.body.id, token: r.body.token };
}

async function audit(tenantId: string, action: string): Promise<any[]> {
  const r = await herald.api.get(`/v1/tenants/${tenantId}/audit-log?action=${action}`);
  expect(r.status).toBe(200);
  return r.body.data;
}

describe('credentials are bound to the tenant they were issued for', () => {
  it('a portal link of a deleted tenant does not open a new tenant with the same id', async () => {
    expect((await herald.api.post('/v1/tenants', { id: 'tc', name: 'First' })).status).toBe(201);
    const link = await portalLink('tc', { expiresInSeconds: 30 * 86_400 });
    const { token } = await apiToken('tc');
    expect((await herald.api.as(link).get('/v1/tenants/tc/endpoints')).status).toBe(200);
    expect((await herald.api.delete('/v1/tenants/tc')).status).toBe(204);
    expect((await herald.api.post('/v1/tenants', { id: 'tc', name: 'Second' })).status).toBe(201);
    for (const t of [link, token]) {
      expect((await herald.api.as(t).get('/v1/tenants/tc/endpoints')).status).toBe(401);
      const create = await herald.api.as(t).post('/v1/tenants/tc/endpoints', { url: 'http://127.0.0.1:9/x' });
      expect(create.status).toBe(401);
    }
    // a link issued for the new tenant works
    expect((await herald.api.as(await portalLink('tc')).get('/v1/tenants/tc/endpoints')).status).toBe(200);
  });
});

describe('API tokens: list and revoke', () => {
  it('lists a tenant’s tokens without their values, revokes one at once, audits it once', async () => {
    const T = await herald.api.tenant('Tokens');
    const a = await apiToken(T, { name: 'ci', role: 'manage' });
    const b = await apiToken(T, { name: 'grafana', role: 'read' });
    const list = await herald.api.get(`/v1/tenants/${T}/tokens`);
    expect(list.status).toBe(200);
    expect(list.body.data.map((t: any) => t.name).sort()).toEqual(['ci', 'grafana']);
    for (const t of list.body.data) {
      expect(Object.keys(t).sort()).toEqual(['createdAt', 'id', 'name', 'revokedAt', 'role', 'tenantId']);
      expect(t.revokedAt).toBeNull();
    }
    expect(JSON.stringify(list.body)).not.toContain(a.token);

    // warm the authenticator's cache, then revoke: refused at once
    expect((await herald.api.as(a.token).get(`/v1/tenants/${T}/endpoints`)).status).toBe(200);
    expect((await herald.api.delete(`/v1/tenants/${T}/tokens/${a.id}`)).status).toBe(204);
    expect((await herald.api.as(a.token).get(`/v1/tenants/${T}/endpoints`)).status).toBe(401);
    expect((await herald.api.as(b.token).get(`/v1/tenants/${T}/endpoints`)).status).toBe(200);
    const one = await herald.api.get(`/v1/tenants/${T}/tokens/${a.id}`);
    expect(one.status).toBe(200);
    expect(one.body.revokedAt).not.toBeNull();

    // again: no change, no second audit entry; unknown id: 404
    expect((await herald.api.delete(`/v1/tenants/${T}/tokens/${a.id}`)).status).toBe(204);
    expect((await herald.api.delete(`/v1/tenants/${T}/tokens/tok_nope`)).status).toBe(404);
    const entries = await audit(T, 'token.revoked');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actor: 'admin', targetType: 'token', targetId: a.id, details: { name: 'ci', role: 'manage' } });
    expect((await herald.running.db.query(`select revoked_at from api_tokens where id = $1`, [a.id])).rows[0]!.revoked_at).not.toBeNull();
  });

  it('only the admin lists or revokes tokens; another tenant’s token ids are 404', async () => {
    const T = await herald.api.tenant('Tokens 2');
    const U = await herald.api.tenant('Tokens 3');
    const own = await apiToken(T);
    const foreign = await apiToken(U);
    expect((await herald.api.as(own.token).get(`/v1/tenants/${T}/tokens`)).status).toBe(403);
    expect((await herald.api.as(own.token).delete(`/v1/tenants/${T}/tokens/${own.id}`)).status).toBe(403);
    expect((await herald.api.delete(`/v1/tenants/${T}/tokens/${foreign.id}`)).status).toBe(404);
    expect((await herald.api.as(foreign.token).get(`/v1/tenants/${U}/endpoints`)).status).toBe(200);
    expect((await herald.api.get('/v1/tenants/nobody-here/tokens')).status).toBe(404);
  });
});

describe('portal links: revoke all of a tenant’s', () => {
  it('refuses every link issued before, accepts new ones, and audits the revocation', async () => {
    const T = await herald.api.tenant('Portal');
    const U = await herald.api.tenant('Other portal');
    const manage = await portalLink(T);
    const read = await portalLink(T, { role: 'read' });
    const others = await portalLink(U);
    for (const l of [manage, read]) expect((await herald.api.as(l).get(`/v1/tenants/${T}/endpoints`)).status).toBe(200);

    expect((await herald.api.as(manage).delete(`/v1/tenants/${T}/portal-links`)).status).toBe(403);
    expect((await herald.api.delete(`/v1/tenants/${T}/portal-links`)).status).toBe(204);
    for (const l of [manage, read]) expect((await herald.api.as(l).get(`/v1/tenants/${T}/endpoints`)).status).toBe(401);
    expect((await herald.api.as(others).get(`/v1/tenants/${U}/endpoints`)).status).toBe(200);
    expect((await herald.api.as(await portalLink(T)).get(`/v1/tenants/${T}/endpoints`)).status).toBe(200);

    const entries = await audit(T, 'portal_links.revoked');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actor: 'admin', targetType: 'tenant', targetId: T });
    expect((await herald.api.delete('/v1/tenants/nobody-here/portal-links')).status).toBe(404);
  });
});
