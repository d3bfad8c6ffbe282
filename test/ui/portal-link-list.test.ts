import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startHerald, type TestHerald } from '../helpers/herald.js';
import { ensureUiBuilt, eventually, haveChromium, launch, watchErrors } from './browser.js';

/**
 * Issue 13, item 7: the Portal links page lists the tenant's links (never
 * their URLs) and revokes one; the revoked link no longer opens the
 * portal, the other one still does. Readable at phone width.
 */
let herald: TestHerald;
let browser: Browser;
let tenant: string;

async function signedIn(width: number, tenantId = tenant): Promise<{ page: Page; errors: string[] }> {
  const page = await (await browser.newContext({ viewport: { width, height: 900 } })).newPage();
  page.setDefaultTimeout(15_000);
  const errors = watchErrors(page);
  await page.goto(herald.url);
  await page.getByLabel('API token').fill(ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // the form checks the token with the API before keeping it: navigating away at once raced that check
  await page.getByRole('heading', { name: 'Tenants', exact: true }).waitFor();
  await page.goto(`${herald.url}/t/${tenantId}/portal-links`);
  return { page, errors };
}

/** Opens a portal URL in a fresh context: does the tenant's portal show, or the "no longer valid" page? */
async function portalOpens(url: string): Promise<boolean> {
  const page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(url);
  const shown = await Promise.race([
    page.waitForURL(`**/portal/t/${tenant}/overview`).then(() => true),
    page.getByRole('heading', { name: 'This link is no longer valid' }).waitFor().then(() => false),
  ]);
  await page.context().close();
  return shown;
}

describe.skipIf(!haveChromium)('portal links listed and revoked in the dashboard', () => {
  beforeAll(async () => {
    ensureUiBuilt();
    herald = await startHerald();
    tenant = await herald.api.tenant('Acme Inc.');
    browser = await launch();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await herald?.stop();
  }, 60_000);

  it('creates two links, revokes one from the page; only that one stops opening the portal', async () => {
    const { page, errors } = await signedIn(1280);
    const urls: string[] = [];
    for (const name of ['First platform', 'Second platform']) {
      await page.getByLabel('Platform name').fill(name);
      await page.getByRole('button', { name: 'Create link' }).click();
      await eventually(async () => page.getByLabel('Portal URL').inputValue()).not.toBe(urls[0] ?? '');
      urls.push(await page.getByLabel('Portal URL').inputValue());
    }
    const table = page.getByRole('table', { name: 'Portal links' });
    await table.getByText('Second platform').waitFor();
    await table.getByText('First platform').waitFor();
    // listed without their URLs
    for (const u of urls) expect(await table.innerText()).not.toContain(u.split('#token=')[1]!.slice(5, 40));
    const listed = (await herald.api.get(`/v1/tenants/${tenant}/portal-links`)).body.data as { id: string; platformName: string }[];
    const first = listed.find((l) => l.platformName === 'First platform')!;
    expect(await portalOpens(urls[0]!)).toBe(true);

    await page.getByRole('button', { name: `Revoke ${first.id}` }).click();
    await page.getByRole('button', { name: 'Revoke link' }).click();
    await eventually(async () => page.getByRole('button', { name: `Revoke ${first.id}` }).count()).toBe(0);
    const row = table.getByRole('row').filter({ hasText: 'First platform' });
    expect(await row.innerText()).toContain('revoked');
    expect(await table.getByRole('row').filter({ hasText: 'Second platform' }).innerText()).toContain('active');

    expect(await portalOpens(urls[0]!)).toBe(false);
    expect(await portalOpens(urls[1]!)).toBe(true);
    const audit = (await herald.api.get(`/v1/tenants/${tenant}/audit-log?action=portal_link.revoked`)).body.data;
    expect(audit.map((e: { targetId: string }) => e.targetId)).toEqual([first.id]);
    expect(errors).toEqual([]);
  });

  it('is readable at phone width: rows become cards, each with its revoke button, nothing wider than the screen', async () => {
    const T = await herald.api.tenant('Phone');
    expect((await herald.api.post(`/v1/tenants/${T}/portal-links`, { platformName: 'A platform with a rather long name', role: 'read' })).status).toBe(201);
    const { page, errors } = await signedIn(390, T);
    const table = page.getByRole('table', { name: 'Portal links' });
    await table.getByText('A platform with a rather long name').waitFor();
    await page.getByRole('table', { name: 'API tokens' }).or(page.getByText('No API tokens')).first().waitFor();
    // lists that load after the table settle the width
    await eventually(async () => page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const revoke = table.getByRole('button', { name: /^Revoke pl_/ });
    expect(await revoke.count()).toBe(1);
    const box = (await revoke.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    // the cell labels show in the card layout
    const status = table.locator('td[data-label="Status"]').first();
    expect(await status.evaluate((el) => getComputedStyle(el, '::before').content)).toContain('Status');
    expect(errors).toEqual([]);
  });
});
