/// <reference lib="dom" />
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from '../helpers/herald.js';
import { Receiver } from '../helpers/receiver.js';
import { ensureUiBuilt, eventually, haveChromium, launch, shot, watchErrors } from './browser.js';
import { closedPort } from '../helpers/process.js';
import { closeAll, signedInPage } from './signed-in.js';

/**
 * Issue 13, item 8: the operator view across tenants, for the admin only —
 * the four figures, attempts per minute, the failing endpoints linked to
 * their pages; no trace of it for a tenant token or in the customer portal.
 */
let herald: TestHerald;
let receiver: Receiver;
let slack: Receiver;
let browser: Browser;
let alpha: string;
let beta: string;
let refused: string;
let closedUrl: string;

describe.skipIf(!haveChromium)('operator view in Chromium', () => {
  beforeAll(async () => {
    ensureUiBuilt();
    slack = await new Receiver().listen();
    receiver = await new Receiver().listen();
    herald = await startHerald({
      circuitBreakerFailures: 3,
      circuitBreakerCooldownSeconds: 600,
      alertWebhookUrl: slack.url('/services/T0/B0/secret'),
      alertAfterFailures: 2,
      alertIntervalSeconds: 1,
    });
    receiver.respond = (r, res) => {
      if (r.path === '/billing') res.writeHead(500, { 'content-type': 'text/plain' }).end('upstream unavailable');
      else res.writeHead(200).end('ok');
    };
    alpha = await herald.api.tenant('Acme Inc.');
    beta = await herald.api.tenant('Globex');
    closedUrl = `http://127.0.0.1:${await closedPort()}/webhooks`;
    refused = (await herald.api.endpoint(alpha, { url: closedUrl, eventTypes: ['order.*'], retry: { schedule: [] } })).id;
    await herald.api.endpoint(beta, { url: receiver.url('/billing'), eventTypes: ['invoice.*'], retry: { schedule: [] } });
    await herald.api.endpoint(beta, { url: receiver.url('/crm'), eventTypes: ['customer.*'] });
    for (let i = 0; i < 3; i++) await herald.api.publish(alpha, 'order.created', { orderId: `ord_${i}` });
    for (let i = 0; i < 2; i++) await herald.api.publish(beta, 'invoice.paid', { invoiceId: `inv_${i}` });
    for (let i = 0; i < 6; i++) await herald.api.publish(beta, 'customer.updated', { customerId: `cus_${i}` });
    await receiver.waitForCount('/billing', 2);
    await receiver.waitForCount('/crm', 6);
    // Until the third failure has opened the refused endpoint's circuit.
    for (let i = 0; (await herald.api.get('/v1/operator/overview')).body.circuitsOpen !== 1; i++) {
      if (i > 150) throw new Error('the circuit never opened');
      await new Promise((ok) => setTimeout(ok, 100));
    }
    const failingAlerts = () => slack.received.flatMap((r) => JSON.parse(r.body).blocks as { text?: { text: string } }[]).filter((b) => b.text?.text.includes('Endpoint failing'));
    await slack.waitFor(() => failingAlerts().length === 2, 15_000, 'both failing alerts');
    browser = await launch();
  }, 120_000);

  afterAll(async () => {
    await closeAll(browser, herald, receiver, slack);
  }, 60_000);

  it('shows the admin the figures, the chart and the failing endpoints of every tenant, linked', async () => {
    const { page, errors } = await signedInPage(browser);
    await page.goto(`${herald.url}/tenants`);
    await page.getByRole('link', { name: 'Operator' }).click();
    await page.getByRole('heading', { name: 'Operator', exact: true }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/operator');
    await eventually(() => page.getByTestId('figure-failing').locator('.tile-value').innerText()).toBe('2');
    expect(await page.getByTestId('figure-circuits').locator('.tile-value').innerText()).toBe('1');
    expect(await page.getByTestId('figure-oldest').locator('.tile-value').innerText()).toBe('—');
    expect(Number(await page.getByTestId('figure-rate').locator('.tile-value').innerText())).toBeGreaterThan(0);
    await page.getByRole('figure', { name: /attempts per minute/i }).locator('.recharts-bar-rectangle').first().waitFor();

    const table = page.getByRole('table', { name: 'Failing endpoints' });
    const rows = table.locator('tbody tr');
    expect(await rows.count()).toBe(2);
    const text = await table.innerText();
    expect(text).toContain(closedUrl);
    expect(text).toContain(receiver.url('/billing'));
    expect(text).toContain('Acme Inc.');
    expect(text).toContain('Globex');
    expect(text).toMatch(/connect/);
    expect(text).toContain('500');

    // alerts: where they go (the path, a secret, hidden) and the two sent
    const alerts = page.getByTestId('alerts');
    expect(await alerts.innerText()).toContain(`http://127.0.0.1:${slack.port}/…`);
    expect(await alerts.innerText()).not.toContain('secret');
    const alertRows = page.getByRole('table', { name: 'Recent alerts' }).locator('tbody tr');
    await eventually(() => alertRows.count()).toBe(2);
    for (const url of [closedUrl, receiver.url('/billing')]) {
      const row = alertRows.filter({ hasText: url });
      expect(await row.innerText()).toMatch(/failing[\s\S]*sent/);
    }
    await shot(page, 'operator');

    await table.getByRole('link', { name: closedUrl }).click();
    await eventually(() => new URL(page.url()).pathname).toBe(`/t/${alpha}/endpoints/${refused}`);
    await page.getByText(closedUrl).first().waitFor();

    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${herald.url}/operator`);
    await page.getByRole('table', { name: 'Failing endpoints' }).waitFor();
    await page.getByRole('table', { name: 'Recent alerts' }).waitFor();
    // readable at phone width: nothing wider than the screen, each row a card with the URL first and labelled cells
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    for (const name of ['Failing endpoints', 'Recent alerts']) {
      const t = page.getByRole('table', { name });
      expect(await t.evaluate((el) => el.scrollWidth <= (el.parentElement as HTMLElement).clientWidth)).toBe(true);
      expect(await t.locator('thead').isVisible()).toBe(false);
    }
    const card = page.getByRole('table', { name: 'Failing endpoints' }).locator('tbody tr').filter({ hasText: closedUrl });
    expect((await card.innerText()).trim().startsWith(closedUrl)).toBe(true);
    const labels = await card.locator('td').evaluateAll((tds) => tds.map((td) => getComputedStyle(td, '::before').content));
    expect(labels).toEqual(['none', '"Tenant: "', '"Failing since: "', '"Last error: "', '"Failures: "', '"Circuit: "']);
    await shot(page, 'operator-phone');
    expect(errors).toEqual([]);
    await page.context().close();
  }, 60_000);

  it('is not there for a tenant token: no link, and the address finds no page', async () => {
    const token = (await herald.api.post(`/v1/tenants/${alpha}/tokens`, { name: 'ops' })).body.token as string;
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addInitScript((t) => sessionStorage.setItem('herald.token', t), token);
    const page: Page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const errors = watchErrors(page);
    await page.goto(`${herald.url}/t/${alpha}/overview`);
    await page.getByRole('link', { name: 'Endpoints' }).waitFor();
    expect(await page.getByRole('link', { name: 'Operator' }).count()).toBe(0);
    await page.goto(`${herald.url}/operator`);
    await page.getByText('Page not found').waitFor();
    expect(await page.getByTestId('operator-figures').count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  it('is not in the customer portal', async () => {
    const link = (await herald.api.post(`/v1/tenants/${alpha}/portal-links`, { expiresInSeconds: 600 })).body as { url: string };
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(link.url.replace(/^https?:\/\/[^/]+/, herald.url));
    await page.getByRole('link', { name: 'Endpoints' }).waitFor();
    expect(await page.getByRole('link', { name: 'Operator' }).count()).toBe(0);
    await context.close();
  }, 60_000);
});
