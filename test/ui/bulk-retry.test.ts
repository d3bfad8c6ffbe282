/// <reference lib="dom" />
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from '../helpers/herald.js';
import { Receiver } from '../helpers/receiver.js';
import { ensureUiBuilt, eventually, haveChromium, launch, shot } from './browser.js';
import { closeAll, signedInPage } from './signed-in.js';

/**
 * Issue 13, item 4: the failed deliveries of a filtered list retried in
 * bulk (a preview count, then batches with a progress bar), here 100 of
 * them, leaving those outside the filter alone; and "Copy as cURL" on a
 * delivery's attempt.
 */
let herald: TestHerald;
let receiver: Receiver;
let browser: Browser;
let page: Page;
let errors: string[];
let tenant: string;
let mainId: string;
let otherId: string;
let up = false;

const failed = async (endpointId: string) => (await herald.api.get(`/v1/tenants/${tenant}/deliveries/count?status=failed&endpointId=${endpointId}`)).body.count as number;

describe.skipIf(!haveChromium)('bulk retry in Chromium', () => {
  beforeAll(async () => {
    ensureUiBuilt();
    // No circuit breaker: 100 failures in a row would pause the endpoint for its cooldown, which is not what this tests.
    herald = await startHerald({ circuitBreakerFailures: 0 });
    receiver = await new Receiver().listen();
    receiver.respond = (_r, res) => void res.writeHead(up ? 200 : 500).end();
    tenant = await herald.api.tenant('Acme Inc.');
    mainId = (await herald.api.endpoint(tenant, { url: receiver.url('/main'), eventTypes: ['order.*'], retry: { schedule: [] } })).id;
    otherId = (await herald.api.endpoint(tenant, { url: receiver.url('/other'), eventTypes: ['invoice.*'], retry: { schedule: [] } })).id;
    const events = [
      ...Array.from({ length: 100 }, (_, i) => ({ type: 'order.created', payload: { n: i } })),
      ...Array.from({ length: 5 }, (_, i) => ({ type: 'invoice.paid', payload: { n: i } })),
    ];
    expect((await herald.api.post(`/v1/tenants/${tenant}/events/batch`, { events })).status).toBe(202);
    // expect.poll only works inside a test
    for (const until = Date.now() + 60_000; (await failed(mainId)) < 100 || (await failed(otherId)) < 5; ) {
      if (Date.now() > until) throw new Error('the deliveries never all failed');
      await new Promise((r) => setTimeout(r, 200));
    }
    browser = await launch();
    ({ page, errors } = await signedInPage(browser));
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: herald.url });
  }, 120_000);

  afterAll(() => closeAll(browser, herald, receiver), 60_000);

  it('retries the 100 failed deliveries of one endpoint, with a preview and progress', async () => {
    up = true;
    await page.goto(`${herald.url}/t/${tenant}/events?status=failed&endpoint=${mainId}`);
    await page.getByRole('heading', { name: 'Events with a failed delivery' }).waitFor();
    await page.getByRole('button', { name: 'Retry all matching…' }).click();
    const dialog = page.getByRole('dialog');
    await eventually(() => dialog.getByTestId('bulk-preview').innerText()).toContain('100 failed deliveries match these filters');
    await dialog.getByRole('button', { name: 'Retry 100 deliveries' }).click();
    await eventually(() => dialog.getByTestId('bulk-progress').innerText()).toContain('100 deliveries queued again.');
    expect(await dialog.locator('progress').getAttribute('value')).toBe('100');
    await shot(page, 'bulk-retry', { fullPage: false });
    await dialog.getByRole('button', { name: 'Close' }).click();
    await receiver.waitForCount('/main', 200, 30_000);
    await eventually(() => failed(mainId)).toBe(0);
    await page.getByText('No failed deliveries match these filters').waitFor();
    // outside the filter: untouched
    expect(await failed(otherId)).toBe(5);
    expect(receiver.at('/other')).toHaveLength(5);
    const audit = (await herald.api.get(`/v1/tenants/${tenant}/audit-log?action=deliveries.bulk_retried`)).body.data;
    expect(audit.map((a: { details: { retried: number } }) => a.details.retried)).toEqual([100]);
    expect(audit[0].details).toMatchObject({ endpointId: mainId });
  }, 90_000);

  it('copies an attempt as a curl command', async () => {
    const [d] = (await herald.api.get(`/v1/tenants/${tenant}/deliveries?endpointId=${otherId}&limit=1`)).body.data;
    await page.goto(`${herald.url}/t/${tenant}/deliveries/${d.id}`);
    await page.getByRole('button', { name: 'Copy as cURL' }).click();
    await page.getByRole('button', { name: 'Copied' }).waitFor();
    const text = await page.evaluate(() => navigator.clipboard.readText());
    expect(text.split(' \\\n')[0]).toBe(`curl -X POST '${receiver.url('/other')}'`);
    expect(text).toMatch(/-H 'webhook-signature: v1,[^']+'/);
    expect(text).toMatch(/--data-raw '\{"n":\d\}'$/);
  }, 60_000);

  it('refuses a bad bulk retry with a 400 naming the field', async () => {
    const field = async (body: Record<string, unknown>) => {
      const r = await herald.api.post(`/v1/tenants/${tenant}/deliveries/retry`, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      return (r.body.error.details as { field: string }[])[0]!.field;
    };
    expect(await field({ limit: 0 })).toMatch(/limit$/);
    expect(await field({ limit: 5000 })).toMatch(/limit$/);
    expect(await field({ eventType: 'order*' })).toMatch(/eventType$/);
    expect(await field({ updatedBefore: 'now' })).toMatch(/updatedBefore$/);
    expect(await field({ since: '2026-01-02T00:00:00Z', until: '2026-01-01T00:00:00Z' })).toBe('until');
    expect((await herald.api.get(`/v1/tenants/${tenant}/deliveries/count?status=lost`)).status).toBe(400);
    expect((await herald.api.post(`/v1/tenants/nope/deliveries/retry`, {})).status).toBe(404);
  });

  it('logged no errors', () => {
    expect(errors).toEqual([]);
  });
});
