import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from '../helpers/herald.js';
import { Receiver } from '../helpers/receiver.js';
import { ensureUiBuilt, eventually, haveChromium, launch, shot } from './browser.js';
import { closeAll, signedInPage } from './signed-in.js';

/**
 * Issue 13's small things: the "Latency p50 / p95" tile shows both, a
 * latency chart with a single bucket of data draws bars rather than lone
 * dots, and "1 delivery queued again" is in the singular.
 */
let herald: TestHerald;
let receiver: Receiver;
let browser: Browser;
let page: Page;
let errors: string[];
let tenant: string;
let endpointId: string;

describe.skipIf(!haveChromium)('charts and counts in Chromium', () => {
  beforeAll(async () => {
    ensureUiBuilt();
    herald = await startHerald();
    receiver = await new Receiver().listen();
    receiver.respond = (_r, res) => void res.writeHead(500).end();
    tenant = await herald.api.tenant('Acme Inc.');
    endpointId = (await herald.api.endpoint(tenant, { url: receiver.url('/hook'), retry: { schedule: [] } })).id;
    const ev = (await herald.api.publish(tenant, 'order.created', { orderId: 'o_1' })).body.id as string;
    const [d] = (await herald.api.get(`/v1/tenants/${tenant}/events/${ev}/deliveries`)).body.data;
    await herald.api.waitDelivery(tenant, d.id, (x) => x.status === 'failed', 15_000);
    browser = await launch();
    ({ page, errors } = await signedInPage(browser));
  }, 120_000);

  afterAll(() => closeAll(browser, herald, receiver), 60_000);

  it('shows p50 and p95 in the latency tile, and one bucket of latency as bars', async () => {
    await page.goto(`${herald.url}/t/${tenant}/overview?range=1h`);
    const tile = page.getByTestId('latency-tile');
    await eventually(() => tile.innerText()).toMatch(/Latency p50 \/ p95\s+\d+ ms \/ \d+ ms\s+p99 \d+ ms/);
    const latency = page.getByRole('figure', { name: 'Latency percentiles per time bucket' });
    await latency.locator('.recharts-bar-rectangle').first().waitFor();
    expect(await latency.locator('.recharts-line').count()).toBe(0);
    expect(await latency.locator('.recharts-bar-rectangle').count()).toBe(3);
    await shot(page, 'overview-one-bucket', { fullPage: false });
  }, 60_000);

  it('says "1 delivery queued again"', async () => {
    receiver.respond = (_r, res) => void res.writeHead(200).end();
    await page.goto(`${herald.url}/t/${tenant}/endpoints/${endpointId}`);
    await page.getByRole('button', { name: 'Recover' }).click();
    await page.getByText('1 delivery queued again.').waitFor();
  }, 60_000);

  it('logged no errors', () => {
    expect(errors).toEqual([]);
  });
});
