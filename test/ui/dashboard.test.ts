/// <reference lib="dom" />
// Functions passed to page.evaluate() run in the browser: DOM types.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startHerald, type TestHerald } from '../helpers/herald.js';
import { Receiver } from '../helpers/receiver.js';
import { ensureUiBuilt, eventually, haveChromium, launch, shot, watchErrors } from './browser.js';
import { seedHistory } from './seed.js';

/**
 * The dashboard in a real browser against a real Herald and a real receiver
 * on loopback: create an endpoint, send a test event, see a failure with its
 * response body, retry it, rotate the secret; charts, events, catalogue and
 * audit log. Takes the screenshots in docs/screenshots.
 */

let herald: TestHerald;
let receiver: Receiver;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let errors: string[];
let tenant: string;
let endpointId: string;
let analyticsId: string;
/** What the receiver answers: flipped by the test. */
let answer: { status: number; body: string } = { status: 200, body: '{"received":true}' };

describe.skipIf(!haveChromium)('dashboard in Chromium', () => {
  beforeAll(async () => {
    ensureUiBuilt();
    herald = await startHerald();
    receiver = await new Receiver().listen();
    receiver.respond = (_r, res) => {
      setTimeout(() => res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body), 15 + Math.random() * 40);
    };
    tenant = await herald.api.tenant('Acme Inc.');
    await herald.api.tenant('Globex');
    for (const et of [
      {
        name: 'invoice.paid',
        description: 'An invoice was paid in full.',
        schema: {
          type: 'object',
          required: ['invoiceId', 'amount'],
          properties: {
            invoiceId: { type: 'string', examples: ['inv_1042'] },
            amount: { type: 'integer', minimum: 0, description: 'In cents' },
            currency: { type: 'string', enum: ['EUR', 'USD'] },
            paidAt: { type: 'string', format: 'date-time' },
          },
        },
      },
      { name: 'invoice.voided', description: 'An invoice was cancelled before payment.' },
      { name: 'customer.created', description: 'A customer signed up.', schema: { type: 'object', properties: { email: { type: 'string', format: 'email' } } } },
    ]) {
      expect((await herald.api.post('/v1/event-types', et)).status).toBe(201);
    }
    // A second endpoint with a day of (seeded) history, for the charts and the health column.
    const analytics = await herald.api.endpoint(tenant, { url: receiver.url('/analytics'), description: 'Analytics pipeline', eventTypes: ['analytics.*'] });
    analyticsId = analytics.id;
    await seedHistory(herald.running.db, { tenantId: tenant, endpointId: analytics.id, url: receiver.url('/analytics'), type: 'analytics.page_viewed' });
    browser = await launch();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    // The one refused sign-in is expected to log its 401.
    errors = watchErrors(page, [/status of 401/]);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await herald?.stop();
    await receiver?.close();
  }, 60_000);

  it('signs in with the admin token and picks a tenant', async () => {
    await page.goto(herald.url);
    await eventually(() => page.getByRole('heading', { name: 'Sign in' }).isVisible()).toBe(true);
    await shot(page, 'sign-in');
    await page.getByLabel('API token').fill('not-a-token-at-all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That token was not accepted').waitFor();
    await page.getByLabel('API token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Tenants', exact: true }).waitFor();
    await page.getByRole('link', { name: 'Acme Inc.' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/t/${tenant}/overview`);
    // The token is kept for this tab only.
    expect(await page.evaluate(() => sessionStorage.getItem('herald.token'))).toBe(ADMIN_TOKEN);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
  }, 60_000);

  it('creates an endpoint through the form', async () => {
    await page.getByRole('link', { name: 'Endpoints', exact: true }).click();
    await page.getByText('Analytics pipeline').waitFor();
    await page.getByRole('link', { name: 'Add endpoint' }).click();
    await page.getByLabel('URL').fill(receiver.url('/hook'));
    await page.getByLabel('Description').fill('Billing service');
    await page.getByLabel('All event types').uncheck();
    await page.getByLabel('invoice.*').check();
    await page.getByLabel('customer.created').check();
    await page.getByLabel('Retry policy').selectOption('schedule');
    // No retries: a failure is final at once, so the test can retry it by hand.
    await page.getByLabel('Delays before each retry (seconds)').fill('');
    await page.getByLabel('Timeout (ms)').fill('5000');
    await page.getByRole('button', { name: 'Add header' }).click();
    await page.getByLabel('Header 1 name').fill('X-Api-Key');
    await page.getByLabel('Header 1 value').fill('k-123');
    await shot(page, 'endpoint-form');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page.getByRole('heading', { name: receiver.url('/hook') }).waitFor();
    endpointId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    const ep = await herald.api.get(`/v1/tenants/${tenant}/endpoints/${endpointId}`);
    expect(ep.body).toMatchObject({
      url: receiver.url('/hook'),
      description: 'Billing service',
      eventTypes: ['invoice.*', 'customer.created'],
      retry: { schedule: [] },
      timeoutMs: 5000,
      headers: { 'x-api-key': 'k-123' },
    });
  }, 60_000);

  it('sends a test event and shows the attempt inline', async () => {
    await page.getByRole('button', { name: 'Send test event' }).click();
    const result = page.getByTestId('test-result');
    await result.getByText('succeeded').waitFor();
    await eventually(() => result.innerText()).toContain('200');
    await eventually(() => result.innerText()).toContain('"received": true');
    await receiver.waitForCount('/hook', 1);
    expect(receiver.at('/hook')[0]!.headers['x-api-key']).toBe('k-123');
    expect(JSON.parse(receiver.at('/hook')[0]!.body)).toMatchObject({ type: 'herald.test', test: true });
  }, 60_000);

  it('shows a failure with the response body, as text, and a Retry that succeeds', async () => {
    answer = { status: 503, body: '{"error":"maintenance <b>window</b> <script>alert(1)</script>"}' };
    await page.getByRole('button', { name: 'Send test event' }).click();
    const result = page.getByTestId('test-result');
    await result.getByText('failed').waitFor();
    await eventually(() => result.innerText()).toContain('503');
    await result.getByRole('link', { name: 'Open delivery' }).click();

    await page.getByRole('heading', { name: /Delivery/ }).waitFor();
    await page.getByText('Attempt 1').waitFor();
    const body = page.locator('.attempt').first();
    // The receiver's body is shown exactly, as text: its markup is not markup here.
    await eventually(() => body.innerText()).toContain('maintenance <b>window</b> <script>alert(1)</script>');
    expect(await page.locator('.attempt b').count()).toBe(0);
    expect(await page.locator('.attempt script').count()).toBe(0);
    // The exact request: URL, signature headers, static header.
    const text = await body.innerText();
    expect(text).toContain(`POST ${receiver.url('/hook')}`);
    expect(text).toMatch(/webhook-signature\s+v1,/);
    expect(text).toContain('x-api-key');
    await shot(page, 'delivery-failed');

    answer = { status: 200, body: '{"received":true}' };
    await page.getByRole('button', { name: 'Retry' }).click();
    await page.getByText('Attempt 2').waitFor();
    await page.locator('.page-head').getByText('succeeded').waitFor();
    const second = page.locator('.attempt').first();
    await eventually(() => second.innerText()).toContain('200');
    await shot(page, 'delivery');
  }, 60_000);

  it('reveals, copies and rotates the secret', async () => {
    await page.goto(`${herald.url}/t/${tenant}/endpoints/${endpointId}`);
    const secret = page.getByTestId('secret');
    await eventually(() => secret.innerText()).toContain('•');
    await page.getByRole('button', { name: 'Reveal' }).click();
    const before = (await herald.api.get(`/v1/tenants/${tenant}/endpoints/${endpointId}/secret`)).body.secret as string;
    await eventually(() => secret.innerText()).toBe(before);
    await page.getByRole('button', { name: 'Rotate' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByText('Rotated.').waitFor();
    const after = (await herald.api.get(`/v1/tenants/${tenant}/endpoints/${endpointId}/secret`)).body.secret as string;
    expect(after).not.toBe(before);
    await eventually(() => secret.innerText()).toBe(after);
    const audit = await herald.api.get(`/v1/tenants/${tenant}/audit-log?action=endpoint.secret_rotated`);
    expect(audit.body.data).toHaveLength(1);
  }, 60_000);

  it('edits the endpoint', async () => {
    await page.getByRole('link', { name: 'Edit', exact: true }).click();
    await eventually(() => page.getByLabel('Description').inputValue()).toBe('Billing service');
    await page.getByLabel('Description').fill('Billing service (EU)');
    await page.getByLabel('Signature header').waitFor({ state: 'detached' });
    await page.getByLabel('Scheme').selectOption('hmac-sha256');
    await page.getByLabel('Signature header').fill('X-Billing-Signature');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Billing service (EU)').waitFor();
    await page.getByText('HMAC-SHA256 in X-Billing-Signature (hex)').waitFor();
    const ep = await herald.api.get(`/v1/tenants/${tenant}/endpoints/${endpointId}`);
    expect(ep.body).toMatchObject({
      description: 'Billing service (EU)',
      signature: { scheme: 'hmac-sha256', header: 'X-Billing-Signature', encoding: 'hex' },
      eventTypes: ['invoice.*', 'customer.created'],
      retry: { schedule: [] },
      headers: { 'x-api-key': 'k-123' },
    });
  }, 60_000);

  it('sets a payload filter in the endpoint form and tests it on a sample event', async () => {
    await page.goto(`${herald.url}/t/${tenant}/endpoints/${endpointId}`);
    await page.getByRole('link', { name: 'Edit', exact: true }).click();
    const filter = { payload: { amount: { $gte: 100 }, currency: { $in: ['EUR', 'USD'] } } };
    await page.getByLabel('Filter (JSON)').fill(JSON.stringify(filter));
    await page.getByLabel('Sample event').fill('{"type": "invoice.paid", "payload": {"amount": 50, "currency": "EUR"}}');
    await page.getByRole('button', { name: 'Test filter' }).click();
    await eventually(() => page.getByTestId('filter-verdict').innerText()).toBe('Does not match: payload.amount is 50: not ≥ 100');
    await page.getByLabel('Sample event').fill('{"payload": {"amount": 150, "currency": "USD"}}');
    await page.getByRole('button', { name: 'Test filter' }).click();
    await eventually(() => page.getByTestId('filter-verdict').innerText()).toBe('Matches: every condition holds');
    // a bad operator is refused by the server, naming it
    await page.getByLabel('Filter (JSON)').fill('{"payload": {"amount": {"$regex": "1"}}}');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText(/filter\.payload\.amount\.\$regex/).first().waitFor();
    // that refused save is the one 400 the browser logs on purpose here
    const refused = errors.findIndex((e) => /status of 400/.test(e));
    expect(refused).toBeGreaterThanOrEqual(0);
    errors.splice(refused, 1);
    await page.getByLabel('Filter (JSON)').fill(JSON.stringify(filter));
    await page.getByRole('button', { name: 'Save changes' }).click();
    await eventually(() => page.getByTestId('endpoint-filter').innerText()).toBe(JSON.stringify(filter));
    expect((await herald.api.get(`/v1/tenants/${tenant}/endpoints/${endpointId}`)).body.filter).toEqual(filter);
    // the tests below expect every event to reach this endpoint
    expect((await herald.api.patch(`/v1/tenants/${tenant}/endpoints/${endpointId}`, { filter: null })).body.filter).toBeNull();
  }, 60_000);

  it('shows new events live, with filters, payloads and deliveries', async () => {
    await page.getByRole('link', { name: 'Events', exact: true }).click();
    await page.getByRole('heading', { name: 'Event log' }).waitFor();
    // Published while the page is open: it appears without a reload.
    const pub = await herald.api.publish(tenant, 'invoice.paid', { invoiceId: 'inv_live_1', amount: 4200, currency: 'EUR', note: '<img src=x onerror=alert(1)>' });
    expect(pub.status).toBe(202);
    await page.getByRole('link', { name: pub.body.id }).waitFor({ timeout: 10_000 });
    for (let i = 0; i < 6; i++) {
      await herald.api.publish(tenant, i % 3 === 0 ? 'customer.created' : 'invoice.paid', { invoiceId: `inv_${i}`, amount: 1000 + i, email: `c${i}@example.com` });
    }
    await page.getByLabel('Type').fill('customer.created');
    await page.getByRole('button', { name: 'Apply' }).click();
    await eventually(() => page.locator('table tbody tr').count()).toBe(2);
    await page.getByRole('button', { name: 'Clear' }).click();
    await eventually(() => page.locator('table tbody tr').count()).toBeGreaterThanOrEqual(9);
    await page.getByLabel('Type').fill('invoice.*');
    await page.getByRole('button', { name: 'Apply' }).click();
    await eventually(() => page.locator('table tbody tr').count()).toBe(5);
    await shot(page, 'events', { fullPage: false });
    await page.getByRole('button', { name: 'Clear' }).click();

    await page.getByLabel('Search').fill(pub.body.id);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await eventually(() => page.locator('table tbody tr').count()).toBe(1);
    await page.locator('table tbody').getByRole('link', { name: pub.body.id }).click();
    await page.getByRole('heading', { name: 'invoice.paid' }).waitFor();
    const payload = page.locator('.json').first();
    await eventually(() => payload.innerText()).toContain('"invoiceId": "inv_live_1"');
    expect(await payload.innerText()).toContain('<img src=x onerror=alert(1)>');
    expect(await page.locator('.json img').count()).toBe(0);
    await page.locator('table').getByText('succeeded').waitFor();
    await shot(page, 'event');
  }, 60_000);

  it('shows the delivery-status filter, the catalogue, the audit log and charts', async () => {
    await page.getByRole('link', { name: 'Events', exact: true }).click();
    await page.getByLabel('Delivery status').selectOption('failed');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByRole('heading', { name: 'Events with a failed delivery' }).waitFor();

    await page.getByRole('link', { name: 'Event types', exact: true }).click();
    await page.locator('summary', { hasText: 'invoice.paid' }).click();
    const example = page.locator('.et[open] .json').nth(1);
    await eventually(() => example.innerText()).toContain('"invoiceId": "inv_1042"');
    await shot(page, 'event-types');

    await page.getByRole('link', { name: 'Audit log', exact: true }).click();
    await page.getByText('endpoint.created').first().waitFor();
    await page.getByText('endpoint.secret_rotated').waitFor();
    await shot(page, 'audit-log');

    await page.getByRole('link', { name: 'Endpoints', exact: true }).click();
    const row = page.locator('tbody tr', { hasText: 'Analytics pipeline' });
    await eventually(() => row.innerText()).toMatch(/9\d(\.\d)?%/);
    await eventually(() => row.innerText()).toContain('Enabled');
    const mine = page.locator('tbody tr', { hasText: 'Billing service' });
    await eventually(() => mine.innerText()).toMatch(/\d+(\.\d)?%/);
    await shot(page, 'endpoints');

    await page.getByRole('link', { name: 'Overview', exact: true }).click();
    await page.locator('.recharts-bar-rectangle').first().waitFor();
    await page.locator('.recharts-line-curve').first().waitFor();
    await shot(page, 'overview');

    await page.goto(`${herald.url}/t/${tenant}/endpoints/${analyticsId}`);
    await page.locator('.recharts-line-curve').first().waitFor();
    await shot(page, 'endpoint');
    await page.goto(`${herald.url}/t/${tenant}/endpoints/${endpointId}`);
    await page.locator('.recharts-bar-rectangle').first().waitFor();
  }, 60_000);

  it('makes a portal link and previews it embedded', async () => {
    await page.getByRole('link', { name: 'Portal links', exact: true }).click();
    await page.getByLabel('Platform name').fill('Acme Cloud');
    await page.getByRole('button', { name: 'Create link' }).click();
    const url = await page.getByLabel('Portal URL').inputValue();
    expect(url).toMatch(new RegExp(`^${herald.url}/portal#token=hpt1\\.`));
    await page.getByRole('button', { name: 'Preview embedded' }).click();
    const frame = page.frameLocator('.portal-preview');
    await frame.getByRole('heading', { name: 'Overview', exact: true }).waitFor();
    await eventually(() => frame.locator('.brand-name').innerText()).toBe('Acme Cloud');
    expect(await frame.locator('#tenant-picker').count()).toBe(0);
    await shot(page, 'portal-links', { fullPage: false });
    // The admin's own sign-in is untouched by the portal's.
    expect(await page.evaluate(() => sessionStorage.getItem('herald.token'))).toBe(ADMIN_TOKEN);
    await page.goto(`${herald.url}/t/${tenant}/endpoints/${endpointId}`);
    await page.getByRole('button', { name: 'Disable' }).waitFor();
  }, 60_000);

  it('disables, recovers and deletes with confirmation', async () => {
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByText('No deliveries are sent to it until it is enabled').waitFor();
    expect((await herald.api.get(`/v1/tenants/${tenant}/endpoints/${endpointId}`)).body.disabled).toBe(true);
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.getByRole('button', { name: 'Disable' }).waitFor();

    await page.getByRole('button', { name: 'Recover' }).click();
    await page.getByText(/No failed deliveries in that period|deliveries queued again/).waitFor();

    await page.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('This cannot be undone').waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect((await herald.api.get(`/v1/tenants/${tenant}/endpoints/${endpointId}`)).status).toBe(200);
    await page.getByRole('button', { name: 'Delete' }).click();
    await dialog.getByRole('button', { name: 'Delete endpoint' }).click();
    await page.getByRole('heading', { name: 'Endpoints', exact: true }).waitFor();
    await eventually(() => page.locator('tbody tr').count()).toBe(1);
    expect((await herald.api.get(`/v1/tenants/${tenant}/endpoints/${endpointId}`)).status).toBe(404);
  }, 60_000);

  it('reads at phone width', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
    await phone.addInitScript((token) => sessionStorage.setItem('herald.token', token), ADMIN_TOKEN);
    const small = await phone.newPage();
    small.setDefaultTimeout(15_000);
    errors.push(...watchErrors(small));
    await small.goto(`${herald.url}/t/${tenant}/overview`);
    await small.locator('.recharts-line-curve').first().waitFor();
    await small.locator('table.delivery-table tbody tr').first().waitFor();
    await shot(small, 'overview-phone');
    await small.goto(`${herald.url}/t/${tenant}/events?status=failed`);
    await small.locator('table.delivery-table tbody tr').first().waitFor();
    await shot(small, 'events-phone', { fullPage: false });
    await small.goto(`${herald.url}/t/${tenant}/endpoints/${analyticsId}`);
    await small.locator('.recharts-line-curve').first().waitFor();
    await shot(small, 'endpoint-phone', { fullPage: false });
    await small.goto(`${herald.url}/t/${tenant}/audit-log`);
    await small.getByText('endpoint.updated').first().waitFor();
    await shot(small, 'audit-log-phone', { fullPage: false });
    // nothing is wider than the phone but the tables, which scroll inside their card
    const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await phone.close();
  }, 60_000);

  it('logged no errors', () => {
    expect(errors).toEqual([]);
  });
});
