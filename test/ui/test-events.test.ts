import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from '../helpers/herald.js';
import { Receiver } from '../helpers/receiver.js';
import { ensureUiBuilt, eventually, haveChromium, launch } from './browser.js';
import { closeAll, signedInPage } from './signed-in.js';

/**
 * Issue 13, item 6: a test event starts from the event type's example
 * payload (which passes the type's schema, where the generic sample did
 * not), can be edited before it is sent, and a payload the schema refuses
 * says why.
 */
let herald: TestHerald;
let receiver: Receiver;
let browser: Browser;
let page: Page;
let errors: string[];
let tenant: string;
let endpointId: string;

const received = () => receiver.at('/hook').map((r) => JSON.parse(r.body) as Record<string, unknown>);

describe.skipIf(!haveChromium)('test events from the example payload, in Chromium', () => {
  beforeAll(async () => {
    ensureUiBuilt();
    herald = await startHerald();
    receiver = await new Receiver().listen();
    tenant = await herald.api.tenant('Acme Inc.');
    const schema = {
      type: 'object',
      required: ['invoiceId', 'amount'],
      properties: {
        invoiceId: { type: 'string', examples: ['inv_1042'] },
        amount: { type: 'integer', minimum: 0 },
        currency: { type: 'string', enum: ['EUR', 'USD'] },
      },
      additionalProperties: false,
    };
    expect((await herald.api.post('/v1/event-types', { name: 'invoice.paid', schema })).status).toBe(201);
    endpointId = (await herald.api.endpoint(tenant, { url: receiver.url('/hook') })).id;
    browser = await launch();
    // The payload the schema refuses is answered 422 on purpose.
    ({ page, errors } = await signedInPage(browser, { expected: [/status of 422/] }));
  }, 120_000);

  afterAll(() => closeAll(browser, herald, receiver), 60_000);

  it('prefills the example of the chosen type and sends it', async () => {
    await page.goto(`${herald.url}/t/${tenant}/endpoints/${endpointId}`);
    await page.getByLabel('Event type').selectOption('invoice.paid');
    const payload = page.getByLabel('Payload', { exact: true });
    expect(JSON.parse(await payload.inputValue())).toEqual({ invoiceId: 'inv_1042', amount: 0, currency: 'EUR' });
    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.getByTestId('test-result').getByText('succeeded').waitFor();
    await receiver.waitForCount('/hook', 1);
    expect(received()[0]).toEqual({ invoiceId: 'inv_1042', amount: 0, currency: 'EUR' });
  }, 60_000);

  it('sends the payload as edited', async () => {
    const payload = page.getByLabel('Payload', { exact: true });
    await payload.fill(JSON.stringify({ invoiceId: 'inv_7', amount: 999, currency: 'USD' }));
    await page.getByText('(edited)').waitFor();
    await page.getByRole('button', { name: 'Send test event' }).click();
    await receiver.waitForCount('/hook', 2);
    expect(received()[1]).toEqual({ invoiceId: 'inv_7', amount: 999, currency: 'USD' });
    await page.getByRole('button', { name: 'Reset to the example' }).click();
    expect(JSON.parse(await payload.inputValue())).toMatchObject({ invoiceId: 'inv_1042' });
  }, 60_000);

  it('says why a payload is refused, and sends nothing that is not JSON', async () => {
    const payload = page.getByLabel('Payload', { exact: true });
    await payload.fill(JSON.stringify({ invoiceId: 'inv_8', amount: 'lots' }));
    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.getByText('Test event not sent').waitFor();
    await eventually(() => page.getByRole('alert').innerText()).toContain('amount');
    await payload.fill('{"invoiceId": ');
    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.getByText('The payload is not valid JSON').waitFor();
    expect(receiver.at('/hook')).toHaveLength(2);
  }, 60_000);

  it('logged no errors', () => {
    expect(errors).toEqual([]);
  });
});
