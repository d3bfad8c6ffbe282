import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from '../helpers/herald.js';
import { Receiver } from '../helpers/receiver.js';
import { ensureUiBuilt, eventually, haveChromium, launch } from './browser.js';
import { closedPort } from '../helpers/process.js';
import { closeAll, signedInPage } from './signed-in.js';

/**
 * Issue 13, item 1: every list of deliveries says where (the endpoint's
 * URL, linked), what went wrong (the network error code or the HTTP
 * status, not a bare "error"), how often it was tried and when it is tried
 * next; every id is a link.
 */
let herald: TestHerald;
let receiver: Receiver;
let browser: Browser;
let page: Page;
let errors: string[];
let tenant: string;
let refusedUrl: string;
let refusedId: string;
let brokenId: string;
let eventId: string;

describe.skipIf(!haveChromium)('delivery lists in Chromium', () => {
  beforeAll(async () => {
    ensureUiBuilt();
    herald = await startHerald();
    receiver = await new Receiver().listen();
    receiver.respond = (_r, res) => void res.writeHead(500, { 'content-type': 'text/plain' }).end('boom');
    tenant = await herald.api.tenant('Acme Inc.');
    refusedUrl = `http://127.0.0.1:${await closedPort()}/hooks`;
    // Retried in an hour: the delivery stays pending with a next attempt.
    refusedId = (await herald.api.endpoint(tenant, { url: refusedUrl, retry: { schedule: [3600] } })).id;
    brokenId = (await herald.api.endpoint(tenant, { url: receiver.url('/broken'), retry: { schedule: [] } })).id;
    const pub = await herald.api.publish(tenant, 'order.created', { orderId: 'o_1' });
    eventId = pub.body.id;
    const ds = (await herald.api.get(`/v1/tenants/${tenant}/events/${eventId}/deliveries`)).body.data as { id: string }[];
    for (const d of ds) await herald.api.waitDelivery(tenant, d.id, (x) => x.attempts === 1, 15_000);
    browser = await launch();
    ({ page, errors } = await signedInPage(browser));
  }, 120_000);

  afterAll(() => closeAll(browser, herald, receiver), 60_000);

  /** The row of the delivery to an endpoint, in the first table of the page. */
  const rowTo = (url: string) => page.locator('table.delivery-table tbody tr', { hasText: url });

  async function expectRows() {
    const refused = rowTo(refusedUrl);
    await eventually(() => refused.innerText()).toContain('connect_refused');
    const text = await refused.innerText();
    expect(text).toContain('pending');
    expect(text).toMatch(/in (1 h|5\d min)/); // the next attempt, an hour away
    expect(text).not.toMatch(/\berror\b/);
    expect(await refused.getByRole('link', { name: refusedUrl }).getAttribute('href')).toBe(`/t/${tenant}/endpoints/${refusedId}`);
    expect(await refused.getByRole('link', { name: eventId }).getAttribute('href')).toBe(`/t/${tenant}/events/${eventId}`);
    const broken = rowTo(receiver.url('/broken'));
    await eventually(() => broken.innerText()).toContain('500');
    expect(await broken.innerText()).toContain('failed');
    expect(await broken.getByRole('link', { name: receiver.url('/broken') }).getAttribute('href')).toBe(`/t/${tenant}/endpoints/${brokenId}`);
    // the delivery id links to the delivery, as does the status badge
    const ids = await broken.locator('a[href*="/deliveries/"]').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    expect(ids.length).toBe(2);
    expect(new Set(ids).size).toBe(1);
  }

  it('on the Overview', async () => {
    await page.goto(`${herald.url}/t/${tenant}/overview`);
    await page.getByRole('heading', { name: 'Latest deliveries' }).waitFor();
    await expectRows();
  }, 60_000);

  it('on the Events page, filtered to failed deliveries', async () => {
    await page.goto(`${herald.url}/t/${tenant}/events`);
    await page.getByLabel('Delivery status').selectOption('failed');
    await page.getByRole('button', { name: 'Apply' }).click();
    const broken = rowTo(receiver.url('/broken'));
    await eventually(() => broken.innerText()).toContain('500');
    expect(await rowTo(refusedUrl).count()).toBe(0);
  }, 60_000);

  it('on an event and on an endpoint', async () => {
    await page.goto(`${herald.url}/t/${tenant}/events/${eventId}`);
    await expectRows();
    await page.goto(`${herald.url}/t/${tenant}/endpoints/${refusedId}`);
    await eventually(() => rowTo(refusedUrl).innerText()).toContain('connect_refused');
  }, 60_000);

  it('answers the API with the endpoint URL and the error code', async () => {
    const list = (await herald.api.get(`/v1/tenants/${tenant}/deliveries`)).body.data as Record<string, unknown>[];
    expect(list.find((d) => d.endpointId === refusedId)).toMatchObject({ endpointUrl: refusedUrl, lastErrorCode: 'connect_refused', lastStatus: null });
    expect(list.find((d) => d.endpointId === brokenId)).toMatchObject({ endpointUrl: receiver.url('/broken'), lastErrorCode: null, lastStatus: 500 });
  });

  it('logged no errors', () => {
    expect(errors).toEqual([]);
  });
});
