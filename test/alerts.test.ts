import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { startHerald, type TestHerald } from './helpers/herald.js';
import { Receiver } from './helpers/receiver.js';

/**
 * Operator alerts end to end: a real Slack-shaped receiver on loopback told
 * when an endpoint starts failing, is disabled, and recovers, once per
 * change; a receiver that hangs delays neither deliveries nor later alerts.
 */

let herald: TestHerald;
let hooks: Receiver;
let slack: Receiver;
let tenant: string;
let flaky: string;
let gone: string;
let broken = true;
const byHand: string[] = [];
/** How the alert receiver answers: ok, or hang (never answers) for the next post. */
let slackMode: 'ok' | 'hang' = 'ok';
/** Bodies of the alert posts answered 200. */
const answered: string[] = [];

interface Block {
  type: string;
  text?: { type: string; text: string };
}
/** Alerts received: one per block of every message answered 200. */
function alertBlocks(): string[] {
  return answered.flatMap((body) => (JSON.parse(body).blocks as Block[]).filter((b) => b.type === 'section').map((b) => b.text!.text));
}
const countOf = (needle: string, endpointId: string) => alertBlocks().filter((t) => t.includes(needle) && t.includes(endpointId)).length;

async function waitUntil(pred: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; alerts so far: ${JSON.stringify(alertBlocks())}`);
    await new Promise((ok) => setTimeout(ok, 50));
  }
}

beforeAll(async () => {
  hooks = await new Receiver().listen();
  hooks.respond = (r, res) => {
    if (r.path === '/flaky' && broken) res.writeHead(500, { 'content-type': 'text/plain' }).end('boom');
    else if (r.path === '/gone') res.writeHead(410).end('gone');
    else res.writeHead(200).end('ok');
  };
  slack = await new Receiver().listen();
  slack.respond = (r, res) => {
    if (slackMode === 'hang') {
      slackMode = 'ok';
      return; // never answered: the post times out
    }
    answered.push(r.body);
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  };
  herald = await startHerald({ alertWebhookUrl: slack.url('/slack'), alertAfterFailures: 2, alertIntervalSeconds: 1, alertTimeoutMs: 3_000 });
  tenant = await herald.api.tenant('Acme Alerts');
  flaky = (await herald.api.endpoint(tenant, { url: hooks.url('/flaky'), eventTypes: ['flaky.*'], retry: { schedule: [] } })).id;
  gone = (await herald.api.endpoint(tenant, { url: hooks.url('/gone'), eventTypes: ['gone.*'] })).id;
  await herald.api.endpoint(tenant, { url: hooks.url('/ok'), eventTypes: ['ok.*'] });
  // disabled by a person (created so, or patched): never announced
  byHand.push((await herald.api.endpoint(tenant, { url: hooks.url('/quiet-1'), disabled: true })).id);
  byHand.push((await herald.api.endpoint(tenant, { url: hooks.url('/quiet-2') })).id);
  expect((await herald.api.patch(`/v1/tenants/${tenant}/endpoints/${byHand[1]}`, { disabled: true })).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await herald?.stop();
  await hooks?.close();
  await slack?.close();
});

describe('operator alerts (Slack-compatible incoming webhook)', () => {
  it('stays quiet below the threshold, then sends one alert naming the tenant, the URL and the error', async () => {
    expect((await herald.api.publish(tenant, 'flaky.thing', { i: 1 })).status).toBe(202);
    await hooks.waitForCount('/flaky', 1);
    await new Promise((ok) => setTimeout(ok, 2_500)); // two passes: one failure is not "failing"
    expect(slack.received).toHaveLength(0);

    expect((await herald.api.publish(tenant, 'flaky.thing', { i: 2 })).status).toBe(202);
    await waitUntil(() => countOf('Endpoint failing', flaky) === 1, 'the failing alert');
    const msg = JSON.parse(slack.at('/slack')[0]!.body);
    expect(msg.text).toContain('Endpoint failing');
    expect(msg.text).toContain('Acme Alerts');
    expect(msg.text).toContain(hooks.url('/flaky'));
    expect(msg.text).toContain('HTTP 500');
    expect(slack.at('/slack')[0]!.headers['content-type']).toBe('application/json');
    const block = alertBlocks().find((t) => t.includes(flaky))!;
    expect(block).toContain(tenant);
    expect(block).toContain('2 failed attempts in a row');

    // more failures of an endpoint already announced: no new alert
    expect((await herald.api.publish(tenant, 'flaky.thing', { i: 3 })).status).toBe(202);
    await hooks.waitForCount('/flaky', 3);
    await new Promise((ok) => setTimeout(ok, 2_500));
    expect(countOf('Endpoint failing', flaky)).toBe(1);
    expect(slack.at('/slack')).toHaveLength(1);
  }, 30_000);

  it('announces the recovery once the endpoint answers again', async () => {
    broken = false;
    expect((await herald.api.publish(tenant, 'flaky.thing', { i: 4 })).status).toBe(202);
    await waitUntil(() => countOf('Endpoint recovered', flaky) === 1, 'the recovery alert');
    const text = alertBlocks().find((t) => t.includes('recovered'))!;
    expect(text).toContain(hooks.url('/flaky'));
    expect(text).toContain('Acme Alerts');
  }, 30_000);

  it('announces a disabled endpoint; a receiver that hangs neither slows deliveries nor loses the alert', async () => {
    slackMode = 'hang';
    const before = slack.at('/slack').length;
    expect((await herald.api.publish(tenant, 'gone.thing', { i: 1 })).status).toBe(202);
    await slack.waitForCount('/slack', before + 1); // the post that hangs
    // deliveries go on while the alert post hangs (for up to its 3 s timeout)
    const t0 = Date.now();
    expect((await herald.api.publish(tenant, 'ok.thing', { i: 1 })).status).toBe(202);
    await hooks.waitForCount('/ok', 1, 2_500);
    expect(Date.now() - t0).toBeLessThan(2_500);
    // the timed-out post is tried again (10 s later) and arrives
    await waitUntil(() => countOf('Endpoint disabled', gone) === 1, 'the disabled alert', 30_000);
    const text = alertBlocks().find((t) => t.includes(gone))!;
    expect(text).toContain('410 Gone');
    expect(text).toContain(hooks.url('/gone'));
    expect(text).toContain('Acme Alerts');
    for (const id of byHand) expect(alertBlocks().filter((t) => t.includes(id))).toEqual([]);
  }, 40_000);

  it('shows the alert configuration and the latest alerts on the operator overview', async () => {
    const o = (await herald.api.get('/v1/operator/overview')).body;
    expect(o.alerts).toMatchObject({ configured: true, target: `http://127.0.0.1:${slack.port}/…`, afterFailures: 2, intervalSeconds: 1, pending: 0 });
    const kinds = o.alerts.recent.map((a: any) => `${a.kind}:${a.endpointId}:${a.status}`);
    expect(kinds).toEqual(expect.arrayContaining([`failing:${flaky}:sent`, `recovered:${flaky}:sent`, `disabled:${gone}:sent`]));
    const disabled = o.alerts.recent.find((a: any) => a.kind === 'disabled');
    expect(disabled).toMatchObject({ tenantName: 'Acme Alerts', url: hooks.url('/gone'), attempts: 2 });
  });
});

describe('the alert URL and the address policy', () => {
  const base = { adminToken: 'x'.repeat(24) };
  it('outside dev mode refuses http and private addresses, naming the key', () => {
    for (const url of ['http://127.0.0.1:9000/hook', 'https://127.0.0.1/hook', 'https://10.1.2.3/hook', 'https://localhost/hook', 'not a url']) {
      expect(() => loadConfig({ ...base, dev: false, alertWebhookUrl: url }, {})).toThrow(ConfigError);
      expect(() => loadConfig({ ...base, dev: false }, { HERALD_ALERT_WEBHOOK_URL: url })).toThrow(/alertWebhookUrl \(HERALD_ALERT_WEBHOOK_URL\)/);
    }
  });
  it('accepts a public https URL, and loopback in dev mode', () => {
    expect(loadConfig({ ...base, dev: false }, { HERALD_ALERT_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/x' }).alertWebhookUrl).toBe(
      'https://hooks.slack.com/services/T0/B0/x',
    );
    expect(loadConfig({ ...base, dev: true, alertWebhookUrl: 'http://127.0.0.1:9000/hook' }, {}).alertWebhookUrl).toBe('http://127.0.0.1:9000/hook');
  });
});
