import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from '../helpers/herald.js';
import { ensureUiBuilt, eventually, haveChromium, launch } from './browser.js';
import { closeAll, signedInPage } from './signed-in.js';

/**
 * Issue 13, item 7: every endpoint setting the API has is editable in the
 * form and shown on the endpoint page: ordered delivery, the rate limit, a
 * secret of one's own, and the rotation's grace period.
 */
let herald: TestHerald;
let browser: Browser;
let page: Page;
let errors: string[];
let tenant: string;
let endpointId: string;
const ownSecret = `whsec_${randomBytes(32).toString('base64')}`;

const api = () => herald.api.get(`/v1/tenants/${tenant}/endpoints/${endpointId}`).then((r) => r.body);
const secret = () => herald.api.get(`/v1/tenants/${tenant}/endpoints/${endpointId}/secret`).then((r) => r.body.secret as string);

describe.skipIf(!haveChromium)('endpoint settings in Chromium', () => {
  beforeAll(async () => {
    ensureUiBuilt();
    herald = await startHerald({}, { api: true, worker: false });
    tenant = await herald.api.tenant('Acme Inc.');
    browser = await launch();
    // The refused secret is a 400 on purpose.
    ({ page, errors } = await signedInPage(browser, { expected: [/status of 400/] }));
  }, 120_000);

  afterAll(() => closeAll(browser, herald), 60_000);

  it('creates an ordered, rate-limited endpoint with a secret of its own', async () => {
    await page.goto(`${herald.url}/t/${tenant}/endpoints/new`);
    await page.getByLabel('URL').fill('http://127.0.0.1:9/orders');
    await page.getByLabel('Ordered: deliver one event at a time').check();
    await page.getByLabel('Rate limit (deliveries per second)').fill('5');
    await page.getByLabel('Send trace context').check();
    await page.getByLabel('Secret (optional)').fill(ownSecret);
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page.getByRole('heading', { name: 'http://127.0.0.1:9/orders' }).waitFor();
    endpointId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    expect(await api()).toMatchObject({ ordered: true, rateLimitPerSecond: 5, sendTraceContext: true, previousSecretExpiresAt: null });
    expect(await secret()).toBe(ownSecret);
    const settings = page.locator('.card', { has: page.getByRole('heading', { name: 'Settings' }) });
    await eventually(() => settings.innerText()).toContain('one at a time, in publish order');
    expect(await settings.innerText()).toContain('5 per second');
    expect(await settings.innerText()).toContain('traceparent sent with each request');
  }, 60_000);

  it('edits ordering and the rate limit, the form starting from the saved values', async () => {
    await page.getByRole('link', { name: 'Edit', exact: true }).click();
    const ordered = page.getByLabel('Ordered: deliver one event at a time');
    await eventually(() => ordered.isChecked()).toBe(true);
    expect(await page.getByLabel('Rate limit (deliveries per second)').inputValue()).toBe('5');
    expect(await page.getByLabel('Send trace context').isChecked()).toBe(true);
    expect(await page.getByLabel('Secret (optional)').count()).toBe(0); // a later change is a rotation
    await ordered.uncheck();
    await page.getByLabel('Send trace context').uncheck();
    await page.getByLabel('Rate limit (deliveries per second)').fill('');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('in parallel (no order kept)').waitFor();
    await page.getByText('no limit').waitFor();
    expect(await api()).toMatchObject({ ordered: false, rateLimitPerSecond: null, sendTraceContext: false });
    expect(await secret()).toBe(ownSecret);
  }, 60_000);

  it('rotates to a secret of its own with a chosen grace period, and shows until when the old one signs', async () => {
    const dialog = page.getByRole('dialog');
    await page.getByRole('button', { name: 'Rotate' }).click();
    await dialog.getByLabel('New secret (optional)').fill('too-short');
    await dialog.getByRole('button', { name: 'Rotate secret' }).click();
    await dialog.getByText('Not rotated').waitFor();
    await eventually(() => dialog.innerText()).toContain('secret');
    expect(await secret()).toBe(ownSecret);

    const next = `whsec_${randomBytes(32).toString('base64')}`;
    await dialog.getByLabel('Grace period').selectOption(String(7 * 86_400));
    await dialog.getByLabel('New secret (optional)').fill(next);
    await dialog.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByTestId('grace').waitFor();
    expect(await secret()).toBe(next);
    const until = Date.parse((await api()).previousSecretExpiresAt);
    expect(Math.abs(until - (Date.now() + 7 * 86_400_000))).toBeLessThan(60_000);
    await eventually(() => page.getByTestId('grace').innerText()).toContain('in 7 d');
    const audit = (await herald.api.get(`/v1/tenants/${tenant}/audit-log?action=endpoint.secret_rotated`)).body.data;
    expect(audit[0].details).toMatchObject({ graceSeconds: 7 * 86_400 });
  }, 60_000);

  it('logged no errors', () => {
    expect(errors).toEqual([]);
  });
});
