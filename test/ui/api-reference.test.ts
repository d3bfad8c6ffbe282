import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startHerald, type TestHerald } from '../helpers/herald.js';
import { ensureUiBuilt, haveChromium, launch, watchErrors } from './browser.js';

/**
 * The API reference at /docs, rendered in Chromium from Herald's own
 * OpenAPI document, with every file from Herald itself (no CDN), request
 * examples, and a link to it from the dashboard.
 */
let herald: TestHerald;
let browser: Browser;
let page: Page;
let errors: string[];
const elsewhere: string[] = [];

beforeAll(async () => {
  herald = await startHerald({}, { api: true, worker: false });
}, 120_000);
afterAll(() => herald?.stop(), 60_000);

describe('API reference document', () => {
  it('serves the same document as /openapi.json, with request examples', async () => {
    const docs = await herald.api.get('/docs/json');
    expect(docs.status).toBe(200);
    expect(docs.body).toEqual((await herald.api.get('/openapi.json')).body);
    const publish = docs.body.paths['/v1/tenants/{tenantId}/events'].post.requestBody.content['application/json'];
    expect(JSON.stringify(publish)).toContain('"type":"invoice.paid"');
  });

  it('sends a policy that allows files from this origin only', async () => {
    const page = await fetch(`${herald.url}/docs/`);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/https:|upgrade-insecure-requests|validator\.swagger\.io/);
    const html = await page.text();
    for (const src of html.matchAll(/(?:src|href)="([^"]+)"/g)) expect(src[1]).toMatch(/^\/docs\/|^\.\//);
  });
});

describe.skipIf(!haveChromium)('API reference in Chromium', () => {
  beforeAll(async () => {
    ensureUiBuilt();
    browser = await launch();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(15_000);
    errors = watchErrors(page);
    page.on('request', (r) => {
      if (!r.url().startsWith(herald.url) && !r.url().startsWith('data:')) elsewhere.push(r.url());
    });
  }, 120_000);

  afterAll(() => browser?.close(), 60_000);

  it('renders every resource and a publish example in Chromium, from this origin only', async () => {
    await page.goto(`${herald.url}/docs`);
    expect(await page.title()).toBe('Herald API reference');
    for (const tag of ['tenants', 'endpoints', 'events', 'deliveries']) await page.locator(`#operations-tag-${tag}`).waitFor();
    const publish = page.locator('#operations-events-post_v1_tenants__tenantId__events');
    await publish.locator('.opblock-summary').click();
    await publish.getByText('"invoice.paid"').first().waitFor();
    expect(await publish.innerText()).toContain('in_1-paid');
    expect(elsewhere).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('is linked from the dashboard', async () => {
    await page.goto(herald.url);
    await page.getByLabel('API token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const link = page.getByRole('link', { name: 'API reference' });
    await link.waitFor();
    expect(await link.getAttribute('href')).toBe('/docs');
    expect(errors).toEqual([]);
  });
});
