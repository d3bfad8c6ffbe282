/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from '../helpers/herald.js';
import { Receiver } from '../helpers/receiver.js';
import { ensureUiBuilt, eventually, haveChromium, launch, shot } from './browser.js';
import { closeAll, signedInPage } from './signed-in.js';

/**
 * Issue 13, item 4: "replay to another URL" from a delivery's page — the
 * same signed event sent once to a URL typed in (a tunnel), shown as a
 * replay beside the attempts, the endpoint untouched; a refused URL says why.
 */
let herald: TestHerald;
let receiver: Receiver;
let browser: Browser;
let tenant: string;
let endpointId: string;
let deliveryId: string;

describe.skipIf(!haveChromium)('replay to another URL in Chromium', () => {
  beforeAll(async () => {
    ensureUiBuilt();
    herald = await startHerald();
    receiver = await new Receiver().listen();
    receiver.respond = (r, res) => {
      if (r.path === '/webhooks') res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway');
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"tunnel":"ok"}');
    };
    tenant = await herald.api.tenant('Acme Inc.');
    endpointId = (await herald.api.endpoint(tenant, { url: receiver.url('/webhooks'), eventTypes: ['order.*'], retry: { schedule: [] } })).id;
    await herald.api.publish(tenant, 'order.created', { orderId: 'ord_1042', total: 129.9 });
    deliveryId = (await herald.api.get(`/v1/tenants/${tenant}/deliveries`)).body.data[0].id;
    await herald.api.waitDelivery(tenant, deliveryId, (d) => d.status === 'failed');
    browser = await launch();
  }, 120_000);

  afterAll(async () => {
    await closeAll(browser, herald, receiver);
  }, 60_000);

  it('sends the delivery once to the URL typed in and shows the answer as a replay', async () => {
    const { page, errors } = await signedInPage(browser, { expected: [/status of 400/] });
    await page.goto(`${herald.url}/t/${tenant}/deliveries/${deliveryId}`);
    await page.getByText('Attempt 1').waitFor();

    await page.getByRole('button', { name: 'Replay to another URL' }).click();
    const url = page.getByLabel('URL');
    // refused first: the server's reason is shown, nothing is sent
    await url.fill('ftp://files.example.com/hook');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByRole('alert').filter({ hasText: 'Replay refused' }).waitFor();
    expect(await page.getByRole('alert').innerText()).toContain('url: URL must use http or https');

    const tunnel = receiver.url('/tunnel');
    await url.fill(tunnel);
    await page.getByRole('button', { name: 'Send' }).click();
    const replay = page.getByTestId('replay');
    await replay.waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
    const text = await replay.innerText();
    expect(text).toContain(`Replay to ${tunnel}`);
    expect(text).toContain(`POST ${tunnel}`);
    expect(text).toContain('200');
    expect(text).toMatch(/"tunnel":\s*"ok"/);
    expect(text).toMatch(/webhook-signature\s+v1,/);

    // sent once, the same bytes as the attempt, and the endpoint and the delivery unchanged
    expect(receiver.at('/tunnel')).toHaveLength(1);
    expect(receiver.at('/tunnel')[0]!.body).toBe(receiver.at('/webhooks')[0]!.body);
    expect((await herald.api.get(`/v1/tenants/${tenant}/endpoints/${endpointId}`)).body.url).toBe(receiver.url('/webhooks'));
    const d = (await herald.api.get(`/v1/tenants/${tenant}/deliveries/${deliveryId}`)).body;
    expect(d).toMatchObject({ status: 'failed', attempts: 1 });
    expect(await page.locator('.page-head').getByText('failed').count()).toBe(1);

    // still there after a reload, under the attempts
    await page.reload();
    await page.getByTestId('replay').waitFor();
    await eventually(() => page.getByTestId('replay').count()).toBe(1);
    await shot(page, 'delivery-replay');
    expect(errors).toEqual([]);
    await page.context().close();
  }, 60_000);

  it('offers no replay to a read-only token', async () => {
    const token = (await herald.api.post(`/v1/tenants/${tenant}/tokens`, { name: 'viewer', role: 'read' })).body.token as string;
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addInitScript((t) => sessionStorage.setItem('herald.token', t), token);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(`${herald.url}/t/${tenant}/deliveries/${deliveryId}`);
    await page.getByText('Attempt 1').waitFor();
    // the replay made above is listed, its target shown
    await page.getByTestId('replay').waitFor();
    expect(await page.getByRole('button', { name: 'Replay to another URL' }).count()).toBe(0);
    await context.close();
  }, 60_000);
});
