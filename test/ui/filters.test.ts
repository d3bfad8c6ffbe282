import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from '../helpers/herald.js';
import { Receiver } from '../helpers/receiver.js';
import { ensureUiBuilt, eventually, haveChromium, launch } from './browser.js';
import { closeAll, signedInPage } from './signed-in.js';

/**
 * Issue 13, item 3: filters (type with `*` patterns, endpoint, status, time)
 * live in the address on every list, so a filtered view survives a reload
 * and can be opened by someone else; the event log finds an event by id
 * and by a payload field; a bad search says which field is wrong.
 */
let herald: TestHerald;
let receiver: Receiver;
let browser: Browser;
let page: Page;
let errors: string[];
let tenant: string;
let failingId: string;
let invoiceEvent: string;

const rows = () => page.locator('main table tbody tr');
const url = () => new URL(page.url());

describe.skipIf(!haveChromium)('filters in the address, in Chromium', () => {
  beforeAll(async () => {
    ensureUiBuilt();
    herald = await startHerald();
    receiver = await new Receiver().listen();
    receiver.respond = (r, res) => void res.writeHead(r.path.startsWith('/down') ? 500 : 200).end();
    tenant = await herald.api.tenant('Acme Inc.');
    failingId = (await herald.api.endpoint(tenant, { url: receiver.url('/down'), eventTypes: ['campaign.*'], retry: { schedule: [] } })).id;
    await herald.api.endpoint(tenant, { url: receiver.url('/up') });
    for (const [type, payload] of [
      ['campaign.sent', { campaign: { id: 'c_1' } }],
      ['campaign.opened', { campaign: { id: 'c_2' } }],
      ['invoice.paid', { invoiceId: 'inv_9', amount: 42 }],
    ] as const) {
      const r = await herald.api.publish(tenant, type, payload);
      if (type === 'invoice.paid') invoiceEvent = r.body.id;
    }
    await receiver.waitForCount('/down', 2);
    await receiver.waitForCount('/up', 3);
    browser = await launch();
    // The one bad search is refused with a 400 on purpose.
    ({ page, errors } = await signedInPage(browser, { expected: [/status of 400/] }));
  }, 120_000);

  afterAll(() => closeAll(browser, herald, receiver), 60_000);

  it('filters the event log by a type pattern, kept across a reload and a shared link', async () => {
    await page.goto(`${herald.url}/t/${tenant}/events`);
    await eventually(() => rows().count()).toBe(3);
    await page.getByLabel('Type').fill('campaign.*');
    await page.getByRole('button', { name: 'Apply' }).click();
    await eventually(() => rows().count()).toBe(2);
    expect(url().searchParams.get('type')).toBe('campaign.*');
    await page.reload();
    await eventually(() => rows().count()).toBe(2);
    expect(await page.getByLabel('Type').inputValue()).toBe('campaign.*');
    // someone else opening the same address sees the same view
    const { page: other } = await signedInPage(browser);
    await other.goto(page.url());
    await eventually(() => other.locator('main table tbody tr').count()).toBe(2);
    await other.context().close();
    // Back undoes the filter
    await page.goBack();
    await eventually(() => rows().count()).toBe(3);
    expect(await page.getByLabel('Type').inputValue()).toBe('');
  }, 60_000);

  it('lists the failed deliveries of one endpoint, and keeps that in the address', async () => {
    await page.goto(`${herald.url}/t/${tenant}/events`);
    await page.getByLabel('Endpoint').selectOption(failingId);
    await page.getByLabel('Delivery status').selectOption('failed');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByRole('heading', { name: 'Events with a failed delivery' }).waitFor();
    await eventually(() => rows().count()).toBe(2);
    expect(Object.fromEntries(url().searchParams)).toEqual({ endpoint: failingId, status: 'failed' });
    await page.reload();
    await eventually(() => rows().count()).toBe(2);
    expect(await page.getByLabel('Delivery status').inputValue()).toBe('failed');
    for (const r of await rows().all()) expect(await r.innerText()).toContain(receiver.url('/down'));
    // a time range that holds nothing
    await page.getByLabel('From').fill('2099-01-01T00:00');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('No failed deliveries match these filters').waitFor();
    expect(url().searchParams.get('since')).toMatch(/^2099-01-01T/);
  }, 60_000);

  it('finds an event by id and by a payload field, and names the field of a bad search', async () => {
    await page.goto(`${herald.url}/t/${tenant}/events`);
    await page.getByLabel('Search').fill('campaign.id=c_1');
    await page.getByRole('button', { name: 'Search' }).click();
    await eventually(() => rows().count()).toBe(1);
    expect(await rows().first().innerText()).toContain('campaign.sent');
    expect(url().searchParams.get('q')).toBe('campaign.id=c_1');
    await page.reload();
    await eventually(() => rows().count()).toBe(1);

    await page.getByLabel('Search').fill(invoiceEvent);
    await page.getByRole('button', { name: 'Search' }).click();
    await eventually(() => rows().count()).toBe(1);
    await rows().getByRole('link', { name: invoiceEvent }).waitFor();

    await page.getByLabel('Search').fill('campaign..id=c_1');
    await page.getByRole('button', { name: 'Search' }).click();
    const alert = page.getByRole('alert');
    await eventually(() => alert.innerText()).toContain('payloadField');
    expect(await page.locator('main .empty').count()).toBe(0);
  }, 60_000);

  it('keeps an endpoint page\'s status filter and range, and the audit log\'s action, in the address', async () => {
    await page.goto(`${herald.url}/t/${tenant}/endpoints/${failingId}?status=succeeded&range=7d`);
    await page.getByText('No succeeded deliveries').waitFor();
    expect(await page.getByLabel('Status').inputValue()).toBe('succeeded');
    expect(await page.getByRole('button', { name: '7d' }).first().getAttribute('aria-pressed')).toBe('true');
    await page.getByLabel('Status').selectOption('failed');
    await eventually(() => rows().count()).toBe(2);
    expect(url().searchParams.get('status')).toBe('failed');

    await page.goto(`${herald.url}/t/${tenant}/audit-log?action=endpoint.created`);
    await eventually(() => rows().count()).toBe(2);
    expect(await page.getByLabel('Action').inputValue()).toBe('endpoint.created');
  }, 60_000);

  it('keeps the catalogue filter in the address as one types, without a history entry per key', async () => {
    await herald.api.post('/v1/event-types', { name: 'campaign.sent', description: 'A campaign went out' });
    await herald.api.post('/v1/event-types', { name: 'invoice.paid', description: 'Paid' });
    await page.goto(`${herald.url}/t/${tenant}/event-types`);
    await page.locator('summary', { hasText: 'invoice.paid' }).waitFor();
    const depth = await page.evaluate(() => history.length);
    await page.getByLabel('Filter').pressSequentially('campaign');
    await eventually(() => page.locator('.et').count()).toBe(1);
    expect(url().searchParams.get('q')).toBe('campaign');
    expect(await page.evaluate(() => history.length)).toBe(depth);
    await page.reload();
    await eventually(() => page.locator('.et').count()).toBe(1);
    expect(await page.getByLabel('Filter').inputValue()).toBe('campaign');
  }, 60_000);

  it('logged no errors', () => {
    expect(errors).toEqual([]);
  });
});
