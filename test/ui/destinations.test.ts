import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from '../helpers/herald.js';
import { NatsStreams, RabbitConsumer, uniqueName } from '../helpers/brokers.js';
import { ensureUiBuilt, eventually, haveChromium, launch } from './browser.js';
import { closeAll, signedInPage } from './signed-in.js';

/**
 * Issue 14, item 3 in the dashboard: the endpoint form chooses HTTP,
 * RabbitMQ or NATS, the endpoint page says where it delivers (the broker
 * password masked), and editing keeps the stored credentials.
 */
let herald: TestHerald;
let browser: Browser;
let page: Page;
let errors: string[];
let tenant: string;
let rabbit: RabbitConsumer;
let nats: NatsStreams;

const settingsText = () => page.locator('[data-testid="endpoint-destination"]').innerText();

describe.skipIf(!haveChromium)('broker destinations in Chromium', () => {
  beforeAll(async () => {
    ensureUiBuilt();
    herald = await startHerald();
    tenant = await herald.api.tenant('Acme Inc.');
    rabbit = await RabbitConsumer.open();
    nats = await NatsStreams.open();
    browser = await launch();
    ({ page, errors } = await signedInPage(browser));
  }, 120_000);

  afterAll(async () => {
    await rabbit?.close();
    await nats?.close();
    await closeAll(browser, herald);
  }, 60_000);

  it('creates a RabbitMQ endpoint that receives events, shown with its password masked; an unchanged edit keeps the credentials', async () => {
    const exchange = await rabbit.exchange();
    const queue = await rabbit.queue(exchange, 'billing');
    await page.goto(`${herald.url}/t/${tenant}/endpoints/new`);
    await page.getByLabel('Delivers to').selectOption('rabbitmq');
    await page.getByLabel('Broker URL').fill('amqp://guest:guest@127.0.0.1:5672');
    await page.getByLabel('Exchange').fill(exchange);
    await page.getByLabel('Routing key').fill('billing');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page.getByRole('heading', { name: 'amqp://guest:***@127.0.0.1:5672' }).waitFor();
    await eventually(settingsText).toContain(`RabbitMQ exchange "${exchange}", routing key "billing"`);
    expect(await page.content()).not.toContain('guest:guest');

    await herald.api.publish(tenant, 'invoice.paid', { n: 1 });
    await rabbit.waitFor(queue, 1);

    await page.getByRole('link', { name: 'Edit', exact: true }).click();
    await eventually(() => page.getByLabel('Broker URL').inputValue()).toBe('amqp://guest:***@127.0.0.1:5672');
    expect(await page.getByLabel('Exchange').inputValue()).toBe(exchange);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: 'amqp://guest:***@127.0.0.1:5672' }).waitFor();
    await herald.api.publish(tenant, 'invoice.paid', { n: 2 });
    await rabbit.waitFor(queue, 2); // guest:guest still stored: the broker took it
    expect(errors).toEqual([]);
  }, 60_000);

  it('creates a NATS JetStream endpoint', async () => {
    const subject = `${uniqueName('ui')}.hooks`;
    const stream = await nats.stream([subject]);
    await page.goto(`${herald.url}/t/${tenant}/endpoints/new`);
    await page.getByLabel('Delivers to').selectOption('nats');
    await page.getByLabel('Broker URL').fill('nats://127.0.0.1:4222');
    await page.getByLabel('Subject').fill(subject);
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await eventually(settingsText).toContain(`NATS JetStream subject ${subject}`);
    await herald.api.publish(tenant, 'order.created', { n: 1 });
    expect(await nats.messages(stream, 1)).toHaveLength(1);
    expect(errors).toEqual([]);
  }, 60_000);
});
