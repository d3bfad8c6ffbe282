/// <reference lib="dom" />
// Functions passed to page.evaluate() run in the browser: DOM types.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portalSigningKey, signPortalToken } from '../../src/security/portal-tokens.js';
import { hashToken } from '../../src/security/tokens.js';
import { ADMIN_TOKEN, startHerald, type TestHerald } from '../helpers/herald.js';
import { Receiver } from '../helpers/receiver.js';
import { ensureUiBuilt, eventually, haveChromium, launch, shot, watchErrors } from './browser.js';

/**
 * The customer portal in a real browser: a portal link opens the UI limited
 * to one tenant, branded, embeddable in another site's iframe, readable in a
 * narrow window, and no other tenant's data is reachable from it.
 */

let herald: TestHerald;
let receiver: Receiver;
let browser: Browser;
let platform: Server;
let platformUrl: string;
let embedTarget = '';
let tenantA: string;
let tenantB: string;
let endpointB: string;
let eventB: string;
let link: { url: string; token: string; expiresAt: string };
/** Anything of tenant B that must never show in A's portal. */
const B_MARKER = 'globex-private-7731';

describe.skipIf(!haveChromium)('customer portal in Chromium', () => {
  beforeAll(async () => {
    ensureUiBuilt();
    herald = await startHerald();
    receiver = await new Receiver().listen();
    tenantA = await herald.api.tenant('Acme Inc.');
    tenantB = await herald.api.tenant('Globex');
    await herald.api.endpoint(tenantA, { url: receiver.url('/acme'), description: 'Acme order sync' });
    endpointB = (await herald.api.endpoint(tenantB, { url: receiver.url(`/${B_MARKER}`), description: `Globex ${B_MARKER}` })).id;
    for (let i = 0; i < 3; i++) await herald.api.publish(tenantA, 'order.created', { orderId: `ord_${i}`, total: 1999 + i });
    eventB = (await herald.api.publish(tenantB, 'order.created', { orderId: B_MARKER })).body.id;
    await receiver.waitForCount('/acme', 3);
    await receiver.waitForCount(`/${B_MARKER}`, 1);
    const r = await herald.api.post(`/v1/tenants/${tenantA}/portal-links`, { platformName: 'Acme Cloud', color: '#0e7490', expiresInSeconds: 3600 });
    expect(r.status).toBe(201);
    link = r.body;

    // A page of "the platform", on another origin, that embeds a URL in an iframe.
    platform = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end(
        `<!doctype html><meta charset="utf-8"><title>Acme Cloud settings</title><body style="margin:0;font-family:sans-serif">` +
          `<div style="padding:12px 20px;background:#0e7490;color:#fff">Acme Cloud · Settings</div>` +
          `<iframe id="portal" src="${embedTarget}" style="width:100%;height:760px;border:0"></iframe></body>`,
      );
    });
    await new Promise<void>((resolve) => platform.listen(0, '127.0.0.1', resolve));
    // `localhost` rather than 127.0.0.1: a different origin (site) from Herald's.
    platformUrl = `http://localhost:${(platform.address() as AddressInfo).port}/`;
    browser = await launch();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => platform?.close(resolve));
    await herald?.stop();
    await receiver?.close();
  });

  async function portalPage(width = 1280, height = 800): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width, height } });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    // Reaching for tenant B's resources on purpose answers 404; those are expected.
    const errors = watchErrors(page, [/status of 404/]);
    return { page, errors };
  }

  it('opens the portal for its tenant, branded, without the token in the address bar', async () => {
    const { page, errors } = await portalPage();
    await page.goto(link.url);
    await page.getByRole('heading', { name: 'Overview', exact: true }).waitFor();
    await page.getByText('order.created').first().waitFor();
    expect(new URL(page.url()).pathname).toBe(`/portal/t/${tenantA}/overview`);
    expect(page.url()).not.toContain('token');
    await eventually(() => page.locator('.brand-name').innerText()).toBe('Acme Cloud');
    expect(await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--accent').trim())).toBe('#0e7490');
    expect(await page.title()).toBe('Acme Cloud · Webhooks');
    // No way to other tenants: no picker, no tenant list, no portal links, no sign-out.
    expect(await page.locator('#tenant-picker').count()).toBe(0);
    expect(await page.getByRole('link', { name: 'All tenants' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Portal links' }).count()).toBe(0);
    await page.getByRole('link', { name: 'Endpoints', exact: true }).click();
    await page.getByText('Acme order sync').waitFor();
    await shot(page, 'portal');
    expect(await page.content()).not.toContain(B_MARKER);
    expect(errors).toEqual([]);
  });

  it('reaches no other tenant: not through the UI and not through the API with its token', async () => {
    const { page } = await portalPage();
    await page.goto(link.url);
    await page.getByRole('heading', { name: 'Overview', exact: true }).waitFor();
    await page.getByText('order.created').first().waitFor();
    for (const path of [
      `/portal/t/${tenantB}/endpoints`,
      `/portal/t/${tenantB}/endpoints/${endpointB}`,
      `/portal/t/${tenantB}/events`,
      `/portal/t/${tenantB}/events/${eventB}`,
      `/portal/t/${tenantB}/overview`,
      `/portal/t/${tenantB}/audit-log`,
      '/portal/tenants',
    ]) {
      await page.goto(herald.url + path);
      await page.locator('.error-box, .error-state, .empty').first().waitFor();
      const text = await page.locator('main').innerText();
      expect(text, path).not.toContain(B_MARKER);
      expect(text, path).not.toContain('Globex');
    }
    await page.goto(`${herald.url}/portal/t/${tenantB}/endpoints/${endpointB}`);
    await page.getByText('Endpoint not available').waitFor();
    await page.getByText('or this token may not see it').waitFor();

    // The token the page holds, used directly: the API refuses every other tenant.
    const statuses = await page.evaluate(
      async ({ a, b, ep, ev }) => {
        const token = sessionStorage.getItem('herald.portal.token');
        const get = async (path: string, method = 'GET') => {
          const r = await fetch(path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: method === 'GET' ? undefined : '{}' });
          return [path, method, r.status, await r.text()] as const;
        };
        return Promise.all([
          get(`/v1/tenants/${b}`),
          get(`/v1/tenants/${b}/endpoints`),
          get(`/v1/tenants/${b}/endpoints/${ep}/secret`),
          get(`/v1/tenants/${b}/events/${ev}`),
          get(`/v1/tenants/${b}/deliveries`),
          get(`/v1/tenants/${b}/stats`),
          get(`/v1/tenants/${b}/endpoints/${ep}/secret/rotate`, 'POST'),
          get(`/v1/tenants/${b}/portal-links`, 'POST'),
          get('/v1/tenants'),
          get(`/v1/tenants/${a}/endpoints`),
          get(`/v1/tenants/${a}/portal-links`, 'POST'),
        ]);
      },
      { a: tenantA, b: tenantB, ep: endpointB, ev: eventB },
    );
    for (const [path, method, status, body] of statuses.slice(0, 8)) {
      expect(status, `${method} ${path}`).toBe(404);
      expect(body).not.toContain(B_MARKER);
    }
    const [, , listStatus, list] = statuses[8]!;
    expect(listStatus).toBe(200);
    expect((JSON.parse(list) as { data: { id: string }[] }).data.map((t) => t.id)).toEqual([tenantA]);
    expect(statuses[9]![2]).toBe(200);
    expect(statuses[10]![2]).toBe(403); // only the admin makes portal links
  });

  it('is embeddable in another site’s iframe, while the admin dashboard is not', async () => {
    const { page, errors } = await portalPage(1280, 860);
    embedTarget = link.url;
    await page.goto(platformUrl);
    const frame = page.frameLocator('#portal');
    await frame.getByRole('heading', { name: 'Overview', exact: true }).waitFor();
    await eventually(() => frame.locator('.brand-name').innerText()).toBe('Acme Cloud');
    await frame.getByRole('link', { name: 'Events', exact: true }).click();
    await frame.getByRole('heading', { name: 'Event log' }).waitFor();
    await shot(page, 'portal-embedded', { fullPage: false });
    expect(errors).toEqual([]);

    // The dashboard refuses to be framed (clickjacking): its document never loads in the frame.
    embedTarget = herald.url + '/';
    const { page: page2 } = await portalPage();
    const refused: string[] = [];
    page2.on('console', (m) => refused.push(m.text()));
    await page2.goto(platformUrl);
    await page2.waitForTimeout(1500);
    const child = page2.frames().find((f) => f !== page2.mainFrame());
    const loaded = child ? await child.locator('#root').count().catch(() => 0) : 0;
    expect(loaded).toBe(0);
  });

  it('stays readable in a narrow window', async () => {
    const { page, errors } = await portalPage(390, 844);
    await page.goto(link.url);
    await page.getByRole('heading', { name: 'Overview', exact: true }).waitFor();
    await page.getByText('order.created').first().waitFor();
    await page.locator('.recharts-bar-rectangle').first().waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(page, 'portal-narrow');
    // The menu folds away and opens on demand.
    expect(await page.getByRole('link', { name: 'Endpoints', exact: true }).isVisible()).toBe(false);
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('link', { name: 'Endpoints', exact: true }).click();
    await page.getByRole('heading', { name: 'Endpoints', exact: true }).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    expect(errors).toEqual([]);
  });

  it('hides every change in a read-only portal', async () => {
    const r = await herald.api.post(`/v1/tenants/${tenantA}/portal-links`, { platformName: 'Acme Cloud', role: 'read' });
    const { page, errors } = await portalPage();
    await page.goto(r.body.url);
    await page.getByRole('heading', { name: 'Overview', exact: true }).waitFor();
    await eventually(() => page.locator('.brand-sub').innerText()).toContain('read-only');
    await page.getByRole('link', { name: 'Endpoints', exact: true }).click();
    await page.getByText('Acme order sync').waitFor();
    expect(await page.getByRole('link', { name: 'Add endpoint' }).count()).toBe(0);
    await page.getByText('Acme order sync').click();
    await page.getByRole('heading', { name: 'Signing secret' }).waitFor();
    for (const name of ['Edit', 'Disable', 'Delete', 'Send test event', 'Rotate', 'Recover']) {
      expect(await page.getByRole('button', { name, exact: true }).count(), name).toBe(0);
    }
    expect(await page.getByRole('link', { name: 'Edit', exact: true }).count()).toBe(0);
    await page.locator('tbody a').first().click();
    await page.getByRole('heading', { name: /Delivery/ }).waitFor();
    expect(await page.getByRole('button', { name: 'Retry' }).count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it('shows an ed25519 endpoint’s public key, even read-only', async () => {
    const ep = await herald.api.post(`/v1/tenants/${tenantA}/endpoints`, { url: receiver.url('/acme-ed'), description: 'Acme signed ed25519', signature: { scheme: 'ed25519' } });
    expect(ep.body.publicKey).toMatch(/^whpk_/);
    const r = await herald.api.post(`/v1/tenants/${tenantA}/portal-links`, { platformName: 'Acme Cloud', role: 'read' });
    const { page, errors } = await portalPage();
    await page.goto(r.body.url);
    await page.getByRole('link', { name: 'Endpoints', exact: true }).click();
    await page.getByText('Acme signed ed25519').click();
    await page.getByRole('heading', { name: 'Signing key (ed25519)' }).waitFor();
    await eventually(() => page.getByTestId('public-key').innerText()).toBe(ep.body.publicKey);
    await page.getByText('Standard Webhooks, ed25519 (v1a)').waitFor();
    expect(await page.getByRole('button', { name: 'Reveal', exact: true }).count()).toBe(0);
    expect(errors).toEqual([]);
    await herald.api.delete(`/v1/tenants/${tenantA}/endpoints/${ep.body.id}`);
  });

  it('tells the holder of an expired link to get a new one', async () => {
    const { page } = await portalPage();
    const bound = (await herald.running.db.query<{ i: string; g: number }>(`select incarnation::text as i, portal_generation as g from tenants where id = $1`, [tenantA])).rows[0]!;
    const expired = signPortalToken(portalSigningKey(hashToken(ADMIN_TOKEN)), { tenantId: tenantA, incarnation: bound.i, generation: Number(bound.g), expiresAt: Date.now() - 1000, platformName: 'Acme Cloud', color: null });
    await page.goto(`${herald.url}/portal#token=${expired}`);
    await page.getByRole('heading', { name: 'This link is no longer valid' }).waitFor();
    expect(await page.locator('body').innerText()).not.toContain('order.created');
    // and a tampered one (tenant B in A's signed claims) is refused the same way
    const [prefix, claims, mac] = link.token.split('.') as [string, string, string];
    const forged = JSON.parse(Buffer.from(claims, 'base64url').toString());
    forged.t = tenantB;
    const tampered = `${prefix}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${mac}`;
    const { page: page2 } = await portalPage();
    await page2.goto(`${herald.url}/portal#token=${tampered}`);
    await page2.getByRole('heading', { name: 'This link is no longer valid' }).waitFor();
    expect(await page2.locator('body').innerText()).not.toContain(B_MARKER);
  });
});
