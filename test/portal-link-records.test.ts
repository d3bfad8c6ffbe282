import type { FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Authenticator } from '../src/api/auth.js';
import { signPortalToken } from '../src/security/portal-tokens.js';
import { hashToken } from '../src/security/tokens.js';
import { getTenantCredentials } from '../src/store/tenants.js';
import { ADMIN_TOKEN, startHerald, type TestHerald } from './helpers/herald.js';

/**
 * Issue 13 item 7: portal links are recorded (migration 0028), listed
 * newest first with their status, and revocable one by one; revoke-all
 * still works and marks them revoked; links signed before the records
 * existed keep working until a revoke-all.
 */
let herald: TestHerald;

beforeAll(async () => {
  herald = await startHerald();
});
afterAll(async () => herald?.stop());

async function link(tenantId: string, body: Record<string, unknown> = {}): Promise<{ id: string; token: string }> {
  const r = await herald.api.post(`/v1/tenants/${tenantId}/portal-links`, body);
  expect(r.status).toBe(201);
  expect(r.body.id).toMatch(/^pl_/);
  return { id: r.body.id, token: r.body.token };
}

const opens = async (tenantId: string, token: string) => (await herald.api.as(token).get(`/v1/tenants/${tenantId}/endpoints`)).status;
const list = async (tenantId: string, query = '') => herald.api.get(`/v1/tenants/${tenantId}/portal-links${query}`);

describe('portal links: listed and revoked one by one', () => {
  it('lists them newest first without their token, revokes one at once, keeps the others, audits it once', async () => {
    const T = await herald.api.tenant('Links');
    const a = await link(T, { platformName: 'Acme', color: '#AABBCC' });
    const b = await link(T, { role: 'read', expiresInSeconds: 86_400 });
    const r = await list(T);
    expect(r.status).toBe(200);
    expect(r.body.nextCursor).toBeNull();
    expect(r.body.data.map((l: any) => l.id)).toEqual([b.id, a.id]);
    expect(r.body.data[1]).toMatchObject({ tenantId: T, role: 'manage', platformName: 'Acme', color: '#aabbcc', createdBy: 'admin', revokedAt: null, status: 'active' });
    expect(r.body.data[0]).toMatchObject({ role: 'read', platformName: null, status: 'active' });
    // never the token or the URL
    expect(JSON.stringify(r.body)).not.toContain(a.token.split('.')[1]!);
    expect(Object.keys(r.body.data[0]).sort()).toEqual(['color', 'createdAt', 'createdBy', 'expiresAt', 'id', 'platformName', 'revokedAt', 'role', 'status', 'tenantId']);

    expect(await opens(T, a.token)).toBe(200);
    expect(await opens(T, b.token)).toBe(200);
    expect((await herald.api.as(b.token).delete(`/v1/tenants/${T}/portal-links/${a.id}`)).status).toBe(403);
    expect((await herald.api.delete(`/v1/tenants/${T}/portal-links/${a.id}`)).status).toBe(204);
    expect(await opens(T, a.token)).toBe(401);
    expect(await opens(T, b.token)).toBe(200);
    // again: no change, no second audit entry
    expect((await herald.api.delete(`/v1/tenants/${T}/portal-links/${a.id}`)).status).toBe(204);

    const after = (await list(T)).body.data;
    expect(after.find((l: any) => l.id === a.id)).toMatchObject({ status: 'revoked', revokedAt: expect.any(String) });
    expect(after.find((l: any) => l.id === b.id)).toMatchObject({ status: 'active', revokedAt: null });

    const audit = (await herald.api.get(`/v1/tenants/${T}/audit-log?action=portal_link.revoked`)).body.data;
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'admin', targetType: 'portal_link', targetId: a.id });
    const created = (await herald.api.get(`/v1/tenants/${T}/audit-log?action=portal_link.created`)).body.data;
    expect(created.map((e: any) => e.targetId).sort()).toEqual([a.id, b.id].sort());
  });

  it('shows an expired link as expired', async () => {
    const T = await herald.api.tenant('Expired');
    const a = await link(T);
    await herald.running.db.query(`update portal_links set expires_at = now() - interval '1 minute' where id = $1`, [a.id]);
    expect((await list(T)).body.data[0]).toMatchObject({ id: a.id, status: 'expired' });
  });

  it('pages with a cursor, and names the field it refuses', async () => {
    const T = await herald.api.tenant('Paged');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await link(T)).id);
    const p1 = await list(T, '?limit=2');
    expect(p1.body.data.map((l: any) => l.id)).toEqual([ids[2], ids[1]]);
    expect(p1.body.nextCursor).toEqual(expect.any(String));
    const p2 = await list(T, `?limit=2&cursor=${p1.body.nextCursor}`);
    expect(p2.body.data.map((l: any) => l.id)).toEqual([ids[0]]);
    expect(p2.body.nextCursor).toBeNull();

    for (const [q, field] of [['?limit=0', 'limit'], ['?cursor=nonsense', 'cursor']] as const) {
      const bad = await list(T, q);
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.body.error)).toContain(field);
    }
    const badId = await herald.api.delete(`/v1/tenants/${T}/portal-links/${encodeURIComponent('no such/id')}`);
    expect(badId.status).toBe(400);
    expect(JSON.stringify(badId.body.error)).toContain('linkId');
  });

  it("answers 404 for another tenant's link id, an unknown id and an unknown tenant, and changes nothing", async () => {
    const T = await herald.api.tenant('Mine');
    const U = await herald.api.tenant('Theirs');
    const theirs = await link(U);
    const r = await herald.api.delete(`/v1/tenants/${T}/portal-links/${theirs.id}`);
    expect(r.status).toBe(404);
    expect(r.body.error.message).toMatch(/portal link/);
    expect((await herald.api.delete(`/v1/tenants/${T}/portal-links/pl_nothing`)).body).toEqual(r.body);
    expect(await opens(U, theirs.token)).toBe(200);
    expect((await list(U)).body.data[0]).toMatchObject({ id: theirs.id, status: 'active' });
    expect((await list(T)).body.data).toEqual([]);
    expect((await list('nobody-here')).status).toBe(404);
    // a tenant's own token may not list links (admin only, as creating them)
    const tok = await herald.api.post(`/v1/tenants/${U}/tokens`, {});
    expect((await herald.api.as(tok.body.token).get(`/v1/tenants/${U}/portal-links`)).status).toBe(403);
    expect((await herald.api.as(theirs.token).get(`/v1/tenants/${U}/portal-links`)).status).toBe(403);
  });

  it('revoke-all marks every recorded link revoked, and still stops links signed before the records existed', async () => {
    const T = await herald.api.tenant('All');
    const a = await link(T);
    const b = await link(T);
    // A link as signed before migration 0028: no record, no `l` claim.
    const cred = (await getTenantCredentials(herald.running.db, T))!;
    const key = new Authenticator(herald.running.db, hashToken(ADMIN_TOKEN)).portalKey;
    const legacy = signPortalToken(key, { tenantId: T, incarnation: cred.incarnation, generation: cred.portalGeneration, expiresAt: Date.now() + 600_000, platformName: null, color: null });
    expect(await opens(T, legacy)).toBe(200);
    expect((await list(T)).body.data).toHaveLength(2);

    expect((await herald.api.delete(`/v1/tenants/${T}/portal-links`)).status).toBe(204);
    for (const t of [a.token, b.token, legacy]) expect(await opens(T, t)).toBe(401);
    expect((await list(T)).body.data.map((l: any) => l.status)).toEqual(['revoked', 'revoked']);
    const c = await link(T);
    expect(await opens(T, c.token)).toBe(200);
    const audit = (await herald.api.get(`/v1/tenants/${T}/audit-log?action=portal_links.revoked`)).body.data;
    expect(audit[0].details).toMatchObject({ links: 2 });
  });

  it('another API process refuses a revoked link once its cache time has passed', async () => {
    const T = await herald.api.tenant('Other process');
    const a = await link(T);
    // A second authenticator on the same database stands for another API process (cache time 300 ms here, 10 s by default).
    const other = new Authenticator(herald.running.db, hashToken(ADMIN_TOKEN), 300);
    const req = { headers: { authorization: `Bearer ${a.token}` } } as FastifyRequest;
    expect(await other.authenticate(req)).toMatchObject({ kind: 'tenant', tenantId: T, tokenId: `portal:${a.id}` });
    expect((await herald.api.delete(`/v1/tenants/${T}/portal-links/${a.id}`)).status).toBe(204);
    expect(await opens(T, a.token)).toBe(401); // this process: at once
    await expect(other.authenticate(req)).resolves.toMatchObject({ tenantId: T }); // still cached there
    await new Promise((r) => setTimeout(r, 350));
    await expect(other.authenticate(req)).rejects.toMatchObject({ status: 401 });
  });
});
