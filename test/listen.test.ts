import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verify } from '../packages/verify/src/index.js';
import { relayAwareDispatcher } from '../src/listen/relay-dispatcher.js';
import { RelayUrls } from '../src/listen/relay-urls.js';
import { send } from '../src/delivery/sender.js';
import { AddressPolicy } from '../src/security/address-policy.js';
import { createSafeDispatcher } from '../src/security/safe-lookup.js';
import { herald, refused } from './helpers/cli.js';
import { ADMIN_TOKEN, startHerald, type TestHerald } from './helpers/herald.js';
import { ListenCli } from './helpers/listen.js';
import { freePort, sleep, waitUntil } from './helpers/process.js';
import { Receiver, type Received } from './helpers/receiver.js';

/**
 * `herald listen` against a live Herald that is NOT in dev mode (so the
 * SSRF policy refuses loopback): the real CLI process forwards real
 * deliveries to a local receiver on 127.0.0.1, which verifies them with
 * the secret the CLI printed; attempts, retries, a reconnect, the event
 * filter and bad input. Every wait is bounded.
 */
let h: TestHerald;
let receiver: Receiver;
const cliProcesses: ListenCli[] = [];

/** A short schedule, so retries happen within a test: 1 s apart. */
const FAST_RETRY = { schedule: [1, 1, 1, 1, 2, 2, 2, 2, 2, 2] };

beforeAll(async () => {
  h = await startHerald({ dev: false, listenGraceSeconds: 4 });
  receiver = await new Receiver().listen();
  receiver.respond = (r, res, n) => {
    res.writeHead(201, { 'content-type': 'text/plain', 'x-receiver': 'local' }).end(`accepted ${r.headers['webhook-id']} #${n}`);
  };
});
afterAll(async () => {
  await Promise.all(cliProcesses.map((c) => c.kill()));
  await h?.stop();
  await receiver?.close();
});

async function tenant(id: string, endpointDefaults: Record<string, unknown> = {}): Promise<string> {
  const r = await h.api.post('/v1/tenants', { id, name: id, settings: { endpointDefaults: { retry: FAST_RETRY, ...endpointDefaults } } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return id;
}

function listen(...args: string[]): ListenCli {
  const cli = ListenCli.start(args, { HERALD_URL: h.url, HERALD_TOKEN: ADMIN_TOKEN });
  cliProcesses.push(cli);
  return cli;
}

/** Publishes the exact JSON text given (so the bytes are known) and returns the event id. */
async function publishRaw(tenantId: string, type: string, payloadJson: string): Promise<string> {
  const r = await h.api.post(`/v1/tenants/${tenantId}/events`, `{"type":${JSON.stringify(type)},"payload":${payloadJson}}`);
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  return r.body.id as string;
}

function verified(secret: string, r: Received): unknown {
  const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, String(v)]));
  return new Webhook(secret).verify(r.body, headers);
}

async function endpointOf(tenantId: string): Promise<{ id: string; url: string; disabled: boolean; disabledReason: string | null }> {
  const list = await h.api.get(`/v1/tenants/${tenantId}/endpoints`);
  expect(list.body.data).toHaveLength(1);
  return list.body.data[0];
}

async function deliveriesOfEvent(tenantId: string, eventId: string): Promise<any[]> {
  return (await h.api.get(`/v1/tenants/${tenantId}/events/${eventId}/deliveries`)).body.data;
}

async function deliveryOfEvent(tenantId: string, eventId: string): Promise<any> {
  return (await deliveriesOfEvent(tenantId, eventId))[0];
}

describe('herald listen', { timeout: 90_000 }, () => {
  it('forwards byte-identical signed deliveries, prints a line each, and records the receiver\'s answer as the attempt', async () => {
    const t = await tenant('fwd');
    const cli = listen('--forward-to', receiver.url('/fwd'), '--tenant', t);
    const secret = await cli.secret();
    expect(cli.lines[0]).toBe(`Signing secret: ${secret}`);
    expect((await h.api.get('/metrics')).body).toMatch(/^herald_listen_connections [1-9]/m);

    // Herald stores a payload as JSON text normalised once at publish (integers past 2^53 kept as written);
    // those bytes are signed and sent, and must reach the local receiver unchanged.
    const payloads: [published: string, delivered: string][] = [
      ['{"n":12345678901234567890,"s":"h\\u00e9llo ✓","list":[1,2.50,3e2]}', '{"n":12345678901234567890,"s":"héllo ✓","list":[1,2.5,300]}'],
      ['{"empty":{}}', '{"empty":{}}'],
      ['{"list":[1,"two",null],  "spaced" : true}', '{"list":[1,"two",null],"spaced":true}'],
    ];
    const ids: string[] = [];
    for (const [p] of payloads) ids.push(await publishRaw(t, 'campaign.created', p));
    await receiver.waitForCount('/fwd', 3, 20_000);

    const got = receiver.at('/fwd');
    expect(got.map((r) => r.headers['webhook-id']).sort()).toEqual([...ids].sort());
    for (const r of got) {
      const i = ids.indexOf(String(r.headers['webhook-id']));
      expect(r.body).toBe(payloads[i]![1]);
      // the signature covers the exact bytes: it verifies only if nothing changed on the way
      expect(() => verified(secret, r)).not.toThrow();
      expect(r.headers['user-agent']).toMatch(/^Herald\//);
      expect(r.headers['content-type']).toBe('application/json');
    }

    // one line per delivery: time, event type, delivery id, status, ms
    await cli.waitFor(/(^\d\d:\d\d:\d\d {2}campaign\.created {2}dlv_\S+ {2}201 {2}\d+ ms$[\s\S]*){3}/m);

    // the attempt Herald recorded is the receiver's answer, and its request the signed one the receiver got
    const d = await h.api.waitDelivery(t, (await deliveryOfEvent(t, ids[0]!)).id, (x) => x.status === 'succeeded');
    const attempt = d.attemptLog[0];
    expect(attempt.response.status).toBe(201);
    expect(attempt.response.body).toMatch(new RegExp(`^accepted ${ids[0]} #\\d$`));
    expect(attempt.response.headers['x-receiver']).toBe('local');
    const seen = got.find((r) => r.headers['webhook-id'] === ids[0])!;
    expect(attempt.request.headers['webhook-signature']).toBe(seen.headers['webhook-signature']);
    expect(attempt.request.headers['webhook-timestamp']).toBe(seen.headers['webhook-timestamp']);

    // it shows in `herald deliveries list` like any delivery
    const listed = await herald(['deliveries', 'list', '--tenant', t, '--json'], { env: { HERALD_URL: h.url, HERALD_TOKEN: ADMIN_TOKEN } });
    expect(JSON.parse(listed.stdout).data.map((x: { eventId: string }) => x.eventId).sort()).toEqual([...ids].sort());
    await cli.kill('SIGINT');
  });

  it('a local receiver that is down: failed attempts naming the error, retried until it is up', async () => {
    const t = await tenant('down');
    const port = await freePort();
    const cli = listen('--forward-to', `http://127.0.0.1:${port}/late`, '--tenant', t);
    await cli.secret();
    const eventId = await publishRaw(t, 'order.placed', '{"order":1}');
    await cli.waitFor(/ order\.placed {2}dlv_\S+ {2}connect_refused {2}\d+ ms {2}connection refused/);
    const first = await h.api.waitDelivery(t, (await deliveryOfEvent(t, eventId)).id, (x) => x.attempts >= 2, 20_000);
    expect(first.status).toBe('pending');
    expect(first.attemptLog[0].response.status).toBe(502);
    expect(first.attemptLog[0].response.body).toMatch(/receiver_unreachable.*connect_refused/);

    // the receiver comes up on that port: the next retry is delivered
    const late = await new Receiver().listen(port);
    try {
      await late.waitForCount('/late', 1, 20_000);
      const done = await h.api.waitDelivery(t, first.id, (x) => x.status === 'succeeded', 20_000);
      expect(done.attemptLog.at(-1).response.status).toBe(200);
    } finally {
      await late.close();
      await cli.kill('SIGINT');
    }
  });

  it('a CLI killed and started again within the grace period resumes the same endpoint and secret; nothing is lost', async () => {
    const t = await tenant('resume');
    const args = ['--forward-to', receiver.url('/resume'), '--tenant', t];
    const first = listen(...args);
    const secret = await first.secret();
    const endpoint = await endpointOf(t);
    // another listener of the same tenant, which must not notice the first one going away
    const other = listen('--forward-to', receiver.url('/resume-other'), '--tenant', t);
    await other.secret();
    await first.kill('SIGKILL');

    // published while nobody listens: the relay answers 503 and the worker retries
    const ids = [await publishRaw(t, 'invoice.paid', '{"i":1}'), await publishRaw(t, 'invoice.paid', '{"i":2}')];
    const offline = await h.api.waitDelivery(t, (await deliveriesOfEvent(t, ids[0]!)).find((d) => d.endpointId === endpoint.id).id, (x) => x.attempts >= 1, 20_000);
    expect(offline.attemptLog[0].response.status).toBe(503);
    expect(offline.attemptLog[0].response.body).toMatch(/listener_offline/);
    await receiver.waitForCount('/resume-other', 2, 20_000);
    await other.kill('SIGINT');

    const second = listen(...args);
    expect(await second.secret()).toBe(secret);
    await second.waitFor(/resumed/);
    await receiver.waitForCount('/resume', 2, 30_000);
    const got = receiver.at('/resume');
    expect(got.map((r) => r.headers['webhook-id']).sort()).toEqual([...ids].sort());
    for (const r of got) expect(() => verified(secret, r)).not.toThrow();
    await second.kill('SIGKILL');

    // gone for longer than the grace period (4 s): the session ends, its endpoint is disabled, history kept
    const ours = async () => (await h.api.get(`/v1/tenants/${t}/endpoints/${endpoint.id}`)).body;
    await waitUntil(async () => (await ours()).disabled, 20_000, 'the ended session\'s endpoint to be disabled');
    expect((await ours()).disabledReason).toBe('herald listen session ended');
    // the same command afterwards opens a new session, with a new secret
    const third = listen(...args);
    expect(await third.secret()).not.toBe(secret);
    await third.kill('SIGINT');
  });

  it('reconnects by itself when the connection drops, and keeps forwarding', async () => {
    const t = await tenant('drop');
    const cli = listen('--forward-to', receiver.url('/drop'), '--tenant', t);
    const secret = await cli.secret();
    await publishRaw(t, 'a.before', '{}');
    await receiver.waitForCount('/drop', 1, 20_000);
    h.running.app!.server.closeAllConnections(); // every HTTP connection to the API, the event stream among them
    await waitUntil(() => /connection lost .*reconnecting/.test(cli.stderr), 20_000, 'the CLI to notice');
    await waitUntil(() => /reconnected \(session ls_/.test(cli.stderr), 20_000, 'the CLI to reconnect');
    const after = await publishRaw(t, 'a.after', '{}');
    await receiver.waitForCount('/drop', 2, 20_000);
    const last = receiver.at('/drop')[1]!;
    expect(last.headers['webhook-id']).toBe(after);
    expect(() => verified(secret, last)).not.toThrow();
    // and with Herald's own receiver library
    expect((await verify(last.body, last.headers, secret)).id).toBe(after);
    expect(cli.stdout).not.toMatch(/New session/);
    await cli.kill('SIGINT');
  });

  it('a second listener of the same command takes the session over; the first stops with one line', async () => {
    const t = await tenant('twice');
    const args = ['--forward-to', receiver.url('/twice'), '--tenant', t];
    const first = listen(...args);
    const secret = await first.secret();
    const second = listen(...args);
    expect(await second.secret()).toBe(secret);
    expect(await first.wait()).toBe(1);
    expect(first.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^herald: another herald listen .* took over session ls_\S+; this one stops$/)]);
    await publishRaw(t, 'b.c', '{}');
    await receiver.waitForCount('/twice', 1, 20_000);
    await second.waitFor(/ b\.c {2}dlv_\S+ {2}201 /);
    await second.kill('SIGINT');
  });

  it('--json: the session and each delivery as one JSON object per line', async () => {
    const t = await tenant('json');
    const cli = listen('--forward-to', receiver.url('/json'), '--tenant', t, '--json');
    await cli.waitFor(/^\{"type":"session".*\}$/m);
    const id = await publishRaw(t, 'j.son', '{}');
    await cli.waitFor(/^\{"type":"delivery".*\}$/m);
    const [session, delivery] = cli.lines.map((l) => JSON.parse(l));
    expect(session).toMatchObject({ type: 'session', sessionId: expect.stringMatching(/^ls_/), secret: expect.stringMatching(/^whsec_/), resumed: false });
    expect(delivery).toMatchObject({ type: 'delivery', eventType: 'j.son', eventId: id, deliveryId: expect.stringMatching(/^dlv_/), status: 201, error: null });
    expect(() => verified(session.secret, receiver.at('/json')[0]!)).not.toThrow();
    await cli.kill('SIGINT');
  });

  it('--events subscribes the temporary endpoint to those types only', async () => {
    // the tenant's static headers come along; its signature scheme does not (listen always signs the Standard Webhooks way)
    const t = await tenant('filter', { headers: { 'x-platform': 'acme' }, signature: { scheme: 'hmac-sha256', header: 'X-Sig', encoding: 'hex' } });
    const cli = listen('--forward-to', receiver.url('/filter'), '--events', 'campaign.*,offer.removed', '--tenant', t);
    const secret = await cli.secret();
    expect((await h.api.get(`/v1/tenants/${t}/endpoints`)).body.data[0].eventTypes).toEqual(['campaign.*', 'offer.removed']);
    const wanted = [await publishRaw(t, 'campaign.started', '{}'), await publishRaw(t, 'offer.removed', '{}')];
    await publishRaw(t, 'offer.added', '{}');
    await publishRaw(t, 'campaigns.x', '{}');
    await receiver.waitForCount('/filter', 2, 20_000);
    await sleep(1_500); // nothing else turns up
    expect(receiver.at('/filter').map((r) => r.headers['webhook-id']).sort()).toEqual([...wanted].sort());
    for (const r of receiver.at('/filter')) {
      expect(r.headers['x-platform']).toBe('acme');
      expect(() => verified(secret, r)).not.toThrow();
    }
    await cli.kill('SIGINT');
  });

  it('bad input: one line, a non-zero exit, no stack trace', async () => {
    const env = { HERALD_URL: h.url, HERALD_TOKEN: ADMIN_TOKEN, HERALD_TENANT: await tenant('badinput') };
    const run = (args: string[], e: Record<string, string> = env) => herald(['listen', ...args], { env: e });
    refused(await run(['--forward-to', 'http://127.0.0.1:9/x', '--bogus']), 2, /unknown option '--bogus'/);
    refused(await run([]), 2, /required option '--forward-to <url>' not specified/);
    refused(await run(['--forward-to', 'ftp://x/y']), 2, /--forward-to: ftp:\/\/x\/y is not an http\(s\) URL/);
    refused(await run(['--forward-to', 'http://127.0.0.1:9/x'], { ...env, HERALD_TOKEN: 'wrong-token-0123456789abcdef' }), 4, /missing or invalid bearer token/);
    const closed = await freePort();
    refused(await run(['--forward-to', 'http://127.0.0.1:9/x'], { ...env, HERALD_URL: `http://127.0.0.1:${closed}` }), 3, /cannot reach Herald at .*ECONNREFUSED/);
    refused(await run(['--forward-to', 'http://127.0.0.1:9/x', '--tenant', 'nope']), 5, /tenant not found/);
    // a session is an endpoint: a read-only token may not open one
    const reader = (await h.api.post('/v1/tenants/badinput/tokens', { role: 'read' })).body.token as string;
    refused(await run(['--forward-to', 'http://127.0.0.1:9/x'], { ...env, HERALD_TOKEN: reader }), 4, /may read but not change anything/);
  });
});

describe('relay endpoints keep the SSRF policy intact for everything else', { timeout: 60_000 }, () => {
  it('the endpoint API refuses a relay URL, and refuses to point a listen endpoint at loopback', async () => {
    const t = await tenant('ssrf');
    const cli = listen('--forward-to', receiver.url('/ssrf'), '--tenant', t);
    await cli.secret();
    const ep = await endpointOf(t);
    expect(ep.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/listen-relay\/ls_/);
    const created = await h.api.post(`/v1/tenants/${t}/endpoints`, { url: ep.url });
    expect(created.status).toBe(400);
    expect(created.body.error.message).toMatch(/^url: /);
    const patched = await h.api.patch(`/v1/tenants/${t}/endpoints/${ep.id}`, { url: 'http://127.0.0.1:9/other' });
    expect(patched.status).toBe(400);
    await cli.kill('SIGINT');
  });

  it('the relay route takes only requests signed with the session endpoint\'s secret', async () => {
    const t = await tenant('relayauth');
    const cli = listen('--forward-to', receiver.url('/relayauth'), '--tenant', t);
    await cli.secret();
    const ep = await endpointOf(t);
    const unsigned = await fetch(ep.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(unsigned.status).toBe(401);
    const other = new Webhook(Buffer.alloc(32, 7).toString('base64'));
    const at = new Date();
    const forged = await fetch(ep.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-id': 'evt_x', 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': other.sign('evt_x', at, '{}') },
      body: '{}',
    });
    expect(forged.status).toBe(401);
    expect(receiver.at('/relayauth')).toHaveLength(0);
    await cli.kill('SIGINT');
  });

  it('the worker\'s dispatcher skips the policy only for relay URLs minted for that origin', async () => {
    const local = await new Receiver().listen();
    const policy = new AddressPolicy({ allowPrivate: false, allowSubnets: [] });
    const urls = new RelayUrls([Buffer.alloc(32, 1)]);
    const d = relayAwareDispatcher(createSafeDispatcher({ policy }), urls);
    const post = (url: string) => send(d.dispatcher, { url, headers: {}, body: '{}', timeoutMs: 5_000 }, 1024);
    try {
      const origin = `http://127.0.0.1:${local.port}`;
      const minted = urls.mint(origin, 'ls_abc');
      expect((await post(minted)).status).toBe(200);
      const [, , , prefix, session, mac] = minted.split('/');
      const tampered = `${origin}/${prefix}/${session}/${mac!.slice(0, -2)}${mac!.endsWith('AA') ? 'BB' : 'AA'}`;
      expect((await post(tampered)).errorCode).toBe('blocked');
      expect((await post(`${origin}/${prefix}/ls_other/${mac}`)).errorCode).toBe('blocked');
      expect((await post(`http://localhost:${local.port}/${prefix}/${session}/${mac}`)).errorCode).toBe('blocked'); // another origin
      expect((await post(`${origin}/hook`)).errorCode).toBe('blocked');
      expect(new RelayUrls([Buffer.alloc(32, 2)]).isMinted(origin, new URL(minted).pathname)).toBe(false); // another deployment's key
      expect(local.received.map((r) => r.path)).toEqual([new URL(minted).pathname]);
    } finally {
      await d.close();
      await local.close();
    }
  });
});

describe('herald listen with `herald api` and `herald worker` as separate processes', { timeout: 90_000 }, () => {
  // Two processes on one embedded database cannot be: PGlite belongs to one process.
  it.skipIf(!process.env.DATABASE_URL)('forwards through the API process the CLI is connected to', async () => {
    const api = await startHerald({ dev: false }, { api: true, worker: false });
    const worker = await startHerald({ dev: false }, { api: false, worker: true }, api.database);
    const local = await new Receiver().listen();
    try {
      expect((await api.api.post('/v1/tenants', { id: 'split', name: 'split' })).status).toBe(201);
      const cli = ListenCli.start(['--forward-to', local.url('/split'), '--tenant', 'split'], { HERALD_URL: api.url, HERALD_TOKEN: ADMIN_TOKEN });
      cliProcesses.push(cli);
      const secret = await cli.secret();
      const sent = await api.api.publish('split', 'split.test', { ok: true });
      await local.waitForCount('/split', 1, 20_000);
      expect(local.received[0]!.headers['webhook-id']).toBe(sent.body.id);
      expect(() => verified(secret, local.received[0]!)).not.toThrow();
      await cli.kill('SIGINT');
    } finally {
      await worker.stop();
      await api.stop();
      await local.close();
    }
  });
});
