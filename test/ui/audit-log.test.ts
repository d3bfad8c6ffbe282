import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from '../helpers/herald.js';
import { ensureUiBuilt, eventually, haveChromium, launch } from './browser.js';
import { closeAll, signedInPage } from './signed-in.js';

/**
 * Issue 13, item 5: an audit entry shows only what changed, before → after
 * (the form sends every field; changing the URL alone is one change, not
 * seven), links its target and expands to every detail. Static header
 * values never reach the log.
 */
let herald: TestHerald;
let browser: Browser;
let page: Page;
let errors: string[];
let tenant: string;
let endpointId: string;

const updates = async () =>
  (await herald.api.get(`/v1/tenants/${tenant}/audit-log?action=endpoint.updated`)).body.data as { details: { changed: string[]; changes: Record<string, { from: unknown; to: unknown }> } }[];

describe.skipIf(!haveChromium)('audit log in Chromium', () => {
  beforeAll(async () => {
    ensureUiBuilt();
    herald = await startHerald({}, { api: true, worker: false });
    tenant = await herald.api.tenant('Acme Inc.');
    endpointId = (await herald.api.endpoint(tenant, { url: 'http://127.0.0.1:9/old', headers: { 'X-Api-Key': 'k-secret-1' }, eventTypes: ['invoice.*'] })).id;
    browser = await launch();
    ({ page, errors } = await signedInPage(browser));
  }, 120_000);

  afterAll(() => closeAll(browser, herald), 60_000);

  it('logs a URL changed through the form as one change, before → after', async () => {
    await page.goto(`${herald.url}/t/${tenant}/endpoints/${endpointId}/edit`);
    await eventually(() => page.getByLabel('URL').inputValue()).toBe('http://127.0.0.1:9/old');
    await page.getByLabel('URL').fill('http://127.0.0.1:9/new');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: 'http://127.0.0.1:9/new' }).waitFor();
    const [entry] = await updates();
    expect(entry!.details.changed).toEqual(['url']);
    expect(entry!.details.changes).toEqual({ url: { from: 'http://127.0.0.1:9/old', to: 'http://127.0.0.1:9/new' } });

    await page.getByRole('link', { name: 'Audit log', exact: true }).click();
    const row = page.locator('tbody tr', { hasText: 'endpoint.updated' });
    await eventually(() => row.locator('.changes li').count()).toBe(1);
    expect(await row.locator('.changes li').innerText()).toBe('url "http://127.0.0.1:9/old" → "http://127.0.0.1:9/new"');
  }, 60_000);

  it('masks static header values, saying that one changed', async () => {
    expect((await herald.api.patch(`/v1/tenants/${tenant}/endpoints/${endpointId}`, { headers: { 'X-Api-Key': 'k-secret-2' } })).status).toBe(200);
    const [entry] = await updates();
    expect(entry!.details.changes).toEqual({ headers: { from: { 'x-api-key': '•••' }, to: { 'x-api-key': '••• (new value)' } } });
    await page.reload();
    const row = page.locator('tbody tr', { hasText: 'new value' });
    await row.waitFor();
    expect(await page.locator('main').innerText()).not.toContain('k-secret');
  }, 60_000);

  it('links the target and expands to every detail', async () => {
    const row = page.locator('tbody tr', { hasText: 'endpoint.created' });
    await row.locator('summary', { hasText: 'Details' }).click();
    await eventually(() => row.locator('.json').innerText()).toContain('"eventTypes"');
    await row.getByRole('link', { name: `endpoint ${endpointId}` }).click();
    await page.getByRole('heading', { name: 'http://127.0.0.1:9/new' }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/t/${tenant}/endpoints/${endpointId}`);
  }, 60_000);

  it('logged no errors', () => {
    expect(errors).toEqual([]);
  });
});
