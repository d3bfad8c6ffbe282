/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from '../helpers/herald.js';
import { Receiver } from '../helpers/receiver.js';
import { ensureUiBuilt, eventually, haveChromium, launch } from './browser.js';
import { closeAll, signedInPage } from './signed-in.js';

/**
 * The operator view's oldest due delivery while it waits in a batch that no
 * worker has written out (no worker runs here): its delivery record does not
 * exist yet, so the tile names and links its event, which does, and says why.
 */
let herald: TestHerald;
let receiver: Receiver;
let browser: Browser;
let tenant: string;
let eventId: string;

describe.skipIf(!haveChromium)('operator view: a delivery still in a batch list', () => {
  beforeAll(async () => {
    ensureUiBuilt();
    receiver = await new Receiver().listen();
    herald = await startHerald({}, { api: true, worker: false });
    tenant = await herald.api.tenant('Initech');
    await herald.api.endpoint(tenant, { url: receiver.url('/hooks') });
    const r = await herald.api.post(`/v1/tenants/${tenant}/events/batch`, {
      events: [1, 2, 3].map((i) => ({ type: 'report.ready', payload: { i } })),
    });
    expect(r.status).toBe(202);
    eventId = r.body.data[0].id;
    browser = await launch();
  }, 120_000);

  afterAll(async () => {
    await closeAll(browser, herald, receiver);
  }, 60_000);

  it('links the event, not a delivery page that does not exist yet', async () => {
    const { page, errors } = await signedInPage(browser);
    await page.goto(`${herald.url}/operator`);
    const tile = page.getByTestId('figure-oldest');
    await eventually(() => tile.locator('.tile-sub').innerText()).toContain('in a batch no worker has written out yet');
    expect(await tile.locator('.tile-value').innerText()).not.toBe('—');
    const links = tile.locator('a');
    expect(await links.count()).toBe(1);
    expect(await links.innerText()).toBe(eventId);
    await links.click();
    await eventually(() => new URL(page.url()).pathname).toBe(`/t/${tenant}/events/${eventId}`);
    await page.getByText('report.ready').first().waitFor();
    expect(errors).toEqual([]);
    await page.context().close();
  }, 60_000);
});
