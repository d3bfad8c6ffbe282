import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from '../helpers/herald.js';
import { Receiver } from '../helpers/receiver.js';
import { ensureUiBuilt, eventually, haveChromium, launch } from './browser.js';
import { closeAll, signedInPage } from './signed-in.js';

/**
 * Issue 14, item 2 in the dashboard: the endpoint form's transformation
 * field, tried on a sample event with the Test button (the request that
 * would be sent, or the error), saved, and then applied to a delivery.
 */
let herald: TestHerald, receiver: Receiver, browser: Browser, page: Page;
/** Console errors of the page; the tenant and the endpoint the form edits. */
let errors: string[], tenant: string, endpointId: string;

const SOURCE = '(webhook) => {\n  webhook.payload = { text: "Paid " + webhook.payload.amount };\n  webhook.headers["X-Channel"] = "#billing";\n  return webhook;\n}';

describe.skipIf(!haveChromium)('transformation in the endpoint form, in Chromium', () => {
  beforeAll(async () => {
    ensureUiBuilt();
    herald = await startHerald({ transformTimeoutMs: 1_000 });
    receiver = await new Receiver().listen();
    tenant = await herald.api.tenant('Acme Inc.');
    endpointId = (await herald.api.endpoint(tenant, { url: receiver.url('/slack'), description: 'Slack relay' })).id;
    browser = await launch();
    // the refused save below logs its 400 on purpose
    ({ page, errors } = await signedInPage(browser, { expected: [/status of 400/] }));
  }, 120_000);

  afterAll(async () => {
    await closeAll(browser, herald, receiver);
  }, 60_000);

  it('tests a transformation on a sample event, shows its error, saves it, and deliveries are transformed', async () => {
    await page.goto(`${herald.url}/t/${tenant}/endpoints/${endpointId}/edit`);
    await page.getByLabel('Transformation (JavaScript)').fill(SOURCE);
    await page.getByLabel('Event to transform').fill('{"type": "invoice.paid", "payload": {"amount": 250}}');
    await page.getByRole('button', { name: 'Test transformation' }).click();
    await eventually(() => page.getByTestId('transformation-body').innerText()).toBe(JSON.stringify({ text: 'Paid 250' }, null, 2));
    const shown = await page.getByTestId('transformation-result').innerText();
    expect(shown).toContain(`POST ${receiver.url('/slack')}`);
    expect(shown).toContain('x-channel: #billing');
    expect(shown).toMatch(/webhook-signature: v1,/);

    // a transformation that throws: the error an attempt would record
    await page.getByLabel('Transformation (JavaScript)').fill('(webhook) => { throw new Error("no amount") }');
    await page.getByRole('button', { name: 'Test transformation' }).click();
    await eventually(() => page.getByTestId('transformation-error').innerText()).toBe('transformation_error: Error: no amount (line 1)');
    expect(await page.getByTestId('transformation-result').count()).toBe(0);

    // one that does not parse is refused when saved, naming the field
    await page.getByLabel('Transformation (JavaScript)').fill('(webhook) => {');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText(/transformation: SyntaxError/).first().waitFor();

    await page.getByLabel('Transformation (JavaScript)').fill(SOURCE);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await eventually(() => page.getByTestId('endpoint-transformation').innerText()).toBe(SOURCE);
    expect((await herald.api.get(`/v1/tenants/${tenant}/endpoints/${endpointId}`)).body.transformation).toBe(SOURCE);

    await herald.api.publish(tenant, 'invoice.paid', { amount: 7 });
    await receiver.waitForCount('/slack', 1);
    expect(JSON.parse(receiver.at('/slack')[0]!.body)).toEqual({ text: 'Paid 7' });
    expect(errors).toEqual([]);
  }, 90_000);
});
