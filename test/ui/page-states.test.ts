import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from '../helpers/herald.js';
import { ensureUiBuilt, eventually, haveChromium, launch } from './browser.js';
import { closeAll, signedInPage } from './signed-in.js';

/**
 * Issue 13, item 2: every page is in one state at a time (loading, error
 * with what to do, empty with the first action, data), never an error
 * drawn over an empty state.
 */
let herald: TestHerald;
let browser: Browser;
let page: Page;
let errors: string[];
let tenant: string;

/** What the main area shows: how many error states, empty states and spinners. */
async function states() {
  const main = page.locator('main');
  return {
    errors: await main.locator('[role=alert]').count(),
    empties: await main.locator('.empty').count(),
    spinners: await main.locator('.loading').count(),
  };
}

describe.skipIf(!haveChromium)('page states in Chromium', () => {
  beforeAll(async () => {
    ensureUiBuilt();
    herald = await startHerald({}, { api: true, worker: false });
    tenant = await herald.api.tenant('Acme Inc.');
    browser = await launch();
    // The 404s of the missing tenant and endpoint are what this test provokes.
    ({ page, errors } = await signedInPage(browser, { expected: [/status of 404/] }));
  }, 120_000);

  afterAll(() => closeAll(browser, herald), 60_000);

  it('an unknown tenant is one "not found" with a way out, not an empty list under an error', async () => {
    for (const page_ of ['endpoints', 'overview', 'events', 'audit-log']) {
      await page.goto(`${herald.url}/t/no-such-tenant/${page_}`);
      await page.getByText('No tenant "no-such-tenant"').waitFor();
      expect(await states()).toEqual({ errors: 1, empties: 0, spinners: 0 });
      expect(await page.locator('main').innerText()).not.toContain('Add the first one');
      expect(await page.locator('main').innerText()).toContain('Check the address');
    }
    await page.getByRole('link', { name: 'Choose a tenant' }).click();
    await page.getByRole('heading', { name: 'Tenants', exact: true }).waitFor();
  }, 60_000);

  it('an unknown endpoint, event or delivery says so, what to do, and where to go', async () => {
    await page.goto(`${herald.url}/t/${tenant}/endpoints/ep_missing`);
    await page.getByText('Endpoint not available').waitFor();
    expect(await states()).toEqual({ errors: 1, empties: 0, spinners: 0 });
    await page.getByRole('button', { name: 'Retry' }).waitFor();
    await page.getByRole('link', { name: 'All endpoints' }).waitFor();
    await page.goto(`${herald.url}/t/${tenant}/events/evt_missing`);
    await page.getByText('Event not available').waitFor();
    await page.goto(`${herald.url}/t/${tenant}/deliveries/dlv_missing`);
    await page.getByText('Delivery not available').waitFor();
    expect(await states()).toEqual({ errors: 1, empties: 0, spinners: 0 });
  }, 60_000);

  it('an empty tenant shows each list empty with its first action, and no error', async () => {
    await page.goto(`${herald.url}/t/${tenant}/endpoints`);
    await page.getByText('No endpoints yet').waitFor();
    expect(await states()).toEqual({ errors: 0, empties: 1, spinners: 0 });
    await page.getByRole('link', { name: 'Add the first one.' }).waitFor();
    await page.goto(`${herald.url}/t/${tenant}/overview`);
    await page.getByText('Nothing delivered yet').waitFor();
    expect((await states()).errors).toBe(0);
  }, 60_000);

  it('a list with rows shows them and nothing else', async () => {
    await herald.api.endpoint(tenant, { url: 'http://127.0.0.1:9/hook', description: 'Billing' });
    await page.goto(`${herald.url}/t/${tenant}/endpoints`);
    await page.getByText('Billing').waitFor();
    await eventually(states).toEqual({ errors: 0, empties: 0, spinners: 0 });
  }, 60_000);

  it('logged no errors', () => {
    expect(errors).toEqual([]);
  });
});
