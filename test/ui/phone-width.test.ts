/// <reference lib="dom" />
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from '../helpers/herald.js';
import { Receiver } from '../helpers/receiver.js';
import { ensureUiBuilt, haveChromium, launch, shot } from './browser.js';
import { closedPort } from '../helpers/process.js';
import { closeAll, signedInPage } from './signed-in.js';

/**
 * Every page of the dashboard at phone width (390 px) with long URLs and
 * failures in it: the page itself never scrolls sideways, and every table
 * either fits or sits in a wrapper that scrolls on its own (the key columns
 * first), so nothing is cut off out of reach.
 */
let herald: TestHerald;
let receiver: Receiver;
let browser: Browser;
let tenant: string;
let endpointId: string;
let eventId: string;
let deliveryId: string;

/** What overflows on the page: the page's own width, and tables wider than a wrapper that cannot scroll. */
async function overflow(page: Page): Promise<{ page: number; tables: string[] }> {
  return page.evaluate(() => {
    const tables: string[] = [];
    for (const t of Array.from(document.querySelectorAll('table'))) {
      const wrap = t.parentElement!;
      const scrolls = getComputedStyle(wrap).overflowX === 'auto' || getComputedStyle(wrap).overflowX === 'scroll';
      if (t.getBoundingClientRect().right > window.innerWidth + 1 && !scrolls) tables.push(t.getAttribute('aria-label') ?? t.className);
      if (scrolls && wrap.getBoundingClientRect().right > window.innerWidth + 1) tables.push(`wrapper of ${t.getAttribute('aria-label') ?? t.className}`);
    }
    return { page: document.documentElement.scrollWidth, tables };
  });
}

describe.skipIf(!haveChromium)('phone width (390 px) in Chromium', () => {
  beforeAll(async () => {
    ensureUiBuilt();
    receiver = await new Receiver().listen();
    receiver.respond = (_r, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('upstream unavailable: the billing service is down for maintenance');
    };
    herald = await startHerald();
    tenant = await herald.api.tenant('Acme Incorporated International');
    const long = `http://127.0.0.1:${await closedPort()}/webhooks/v2/customers/acme-incorporated-international/orders-and-invoices`;
    endpointId = (await herald.api.endpoint(tenant, { url: long, eventTypes: ['order.*'], retry: { schedule: [] }, description: 'Orders' })).id;
    await herald.api.endpoint(tenant, { url: receiver.url('/billing/webhooks/very/long/path/for/the/invoices/service'), eventTypes: ['invoice.*'], retry: { schedule: [] } });
    for (let i = 0; i < 3; i++) eventId = (await herald.api.publish(tenant, 'order.created', { orderId: `ord_${i}`, customer: { email: 'someone.with.a.long.address@example.com' } })).body.id;
    await herald.api.publish(tenant, 'invoice.paid', { invoiceId: 'inv_1' });
    await herald.api.post(`/v1/tenants/${tenant}/tokens`, { name: 'grafana dashboards, read only', role: 'read' });
    deliveryId = (await herald.api.get(`/v1/tenants/${tenant}/deliveries?endpointId=${endpointId}`)).body.data[0].id;
    await herald.api.waitDelivery(tenant, deliveryId, (d) => d.status === 'failed');
    await receiver.waitForCount('/billing/webhooks/very/long/path/for/the/invoices/service', 1);
    browser = await launch();
  }, 120_000);

  afterAll(async () => {
    await closeAll(browser, herald, receiver);
  }, 60_000);

  it('no page scrolls sideways and no table is cut off', async () => {
    const { page, errors } = await signedInPage(browser, { width: 390, height: 844 });
    const pages: [string, string][] = [
      ['/tenants', 'Tenants'],
      [`/t/${tenant}/overview`, 'Latest deliveries'],
      [`/t/${tenant}/endpoints`, 'Endpoints'],
      [`/t/${tenant}/endpoints/${endpointId}`, 'Deliveries'],
      [`/t/${tenant}/events`, 'Events'],
      [`/t/${tenant}/events/${eventId}`, 'Deliveries'],
      [`/t/${tenant}/deliveries/${deliveryId}`, 'Attempt 1'],
      [`/t/${tenant}/event-types`, 'Event types'],
      [`/t/${tenant}/audit-log`, 'Audit log'],
      [`/t/${tenant}/portal-links`, 'API tokens'],
      ['/operator', 'Failing endpoints'],
    ];
    const problems: string[] = [];
    for (const [path, marker] of pages) {
      await page.goto(`${herald.url}${path}`);
      await page.locator('main').getByText(marker, { exact: false }).first().waitFor();
      await page.waitForTimeout(300); // lists and charts that load after the heading
      const o = await overflow(page);
      if (o.page > 390) problems.push(`${path}: the page is ${o.page} px wide`);
      for (const t of o.tables) problems.push(`${path}: ${t} is cut off`);
    }
    await page.goto(`${herald.url}/t/${tenant}/portal-links`);
    await page.getByRole('table', { name: 'API tokens' }).waitFor();
    await shot(page, 'access-phone');
    expect(problems).toEqual([]);
    expect(errors).toEqual([]);
    await page.context().close();
  }, 120_000);
});
