import { Webhook as StandardWebhook } from 'standardwebhooks';
import { createHmac } from 'node:crypto';
import { connect as connectTcp, createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from './helpers/herald.js';
import { Receiver } from './helpers/receiver.js';
import { RabbitConsumer, RABBITMQ_URL } from './helpers/brokers.js';
import { closedPort } from './helpers/process.js';

/*
 * RabbitMQ destinations end to end, against the RabbitMQ this machine
 * runs: what is published arrives on a queue bound to the exchange,
 * signed; what the broker does not take (unroutable, unknown exchange,
 * refused credentials, broker down) is a failed attempt, retried on the
 * endpoint's schedule, and slows no other endpoint.
 */

let herald: TestHerald;
let rabbit: RabbitConsumer;
let receiver: Receiver;

beforeAll(async () => {
  herald = await startHerald();
  rabbit = await RabbitConsumer.open();
  receiver = await new Receiver().listen();
});
afterAll(async () => {
  await herald?.stop();
  await rabbit?.close();
  await receiver?.close();
});

const rabbitmq = (exchange: string, routingKey = 'hooks', url = RABBITMQ_URL) => ({ type: 'rabbitmq', url, exchange, routingKey });
/** The delivery of `eventId` (to `endpointId` when it has several). */
const deliveryOf = async (t: string, eventId: string, endpointId?: string): Promise<string> =>
  (await herald.api.get(`/v1/tenants/${t}/events/${eventId}/deliveries`)).body.data.find((d: any) => !endpointId || d.endpointId === endpointId).id;

describe('publishing to RabbitMQ', () => {
  it('publishes the signed payload with its ids, signature and event type as headers; the broker URL is stored sealed and shown masked', async () => {
    const t = await herald.api.tenant();
    const exchange = await rabbit.exchange();
    const queue = await rabbit.queue(exchange, 'invoices');
    const created = await herald.api.post(`/v1/tenants/${t}/endpoints`, { destination: rabbitmq(exchange, 'invoices'), headers: { 'X-Team': 'billing' } });
    expect(created.status).toBe(201);
    expect(created.body.destination).toEqual({ type: 'rabbitmq', url: 'amqp://guest:***@127.0.0.1:5672', exchange, routingKey: 'invoices' });
    expect(created.body.url).toBe('amqp://guest:***@127.0.0.1:5672');
    expect(JSON.stringify((await herald.api.get(`/v1/tenants/${t}/endpoints/${created.body.id}`)).body)).not.toContain('guest:guest');

    const payload = { invoiceId: 'inv_1', amount: 250, note: 'ünïcode "quoted"' };
    const pub = await herald.api.publish(t, 'invoice.paid', payload);
    expect(pub.status).toBe(202);
    const [m] = await rabbit.waitFor(queue, 1);
    const body = m!.content.toString();
    expect(body).toBe(JSON.stringify(payload));
    const h = m!.properties.headers as Record<string, string>;
    expect(h['webhook-id']).toBe(pub.body.id);
    expect(h['webhook-event-type']).toBe('invoice.paid');
    expect(h['x-team']).toBe('billing');
    expect(m!.properties.contentType).toBe('application/json');
    expect(m!.properties.deliveryMode).toBe(2); // persistent
    const headers = { 'webhook-id': h['webhook-id']!, 'webhook-timestamp': String(h['webhook-timestamp']), 'webhook-signature': h['webhook-signature']! };
    expect(new StandardWebhook(created.body.secret).verify(body, headers)).toEqual(payload);
    expect(() => new StandardWebhook('whsec_' + Buffer.alloc(32, 7).toString('base64')).verify(body, headers)).toThrow();

    const d = await herald.api.waitDelivery(t, await deliveryOf(t, pub.body.id), (x) => x.status === 'succeeded');
    expect(d.attemptLog).toHaveLength(1);
    expect(d.attemptLog[0].request.url).toBe('amqp://guest:***@127.0.0.1:5672');
    expect(d.attemptLog[0].error).toBeNull();

    // at rest: the URL is sealed like the secret; nothing in the row holds the password in clear
    const row = await herald.running.db.query<{ destination: { url: string }; url: string; all: string }>(
      `select destination, url, row_to_json(e)::text as all from endpoints e where id = $1`,
      [created.body.id],
    );
    expect(row.rows[0]!.destination.url).toMatch(/^hs1:/);
    expect(row.rows[0]!.all).not.toContain('guest:guest');
  });

  it('signs with the endpoint’s HMAC scheme in its own header', async () => {
    const t = await herald.api.tenant();
    const exchange = await rabbit.exchange();
    const queue = await rabbit.queue(exchange, 'k');
    const ep = await herald.api.endpoint(t, { destination: rabbitmq(exchange, 'k'), signature: { scheme: 'hmac-sha256', header: 'X-Signature', encoding: 'hex' } });
    await herald.api.publish(t, 'a.b', { n: 1 });
    const [m] = await rabbit.waitFor(queue, 1);
    const h = m!.properties.headers as Record<string, string>;
    expect(h['x-signature']).toBeTruthy();
    expect(h['x-signature']).toBe(createHmac('sha256', ep.secret).update(m!.content).digest('hex'));
    expect(h['webhook-signature']).toBeUndefined();
  });

  it('keeps an ordering key’s events in publish order, and an ordered endpoint’s', async () => {
    const t = await herald.api.tenant();
    const exchange = await rabbit.exchange();
    const keyed = await rabbit.queue(exchange, 'keyed');
    const serial = await rabbit.queue(exchange, 'serial');
    await herald.api.endpoint(t, { destination: rabbitmq(exchange, 'keyed'), eventTypes: ['k.*'] });
    await herald.api.endpoint(t, { destination: rabbitmq(exchange, 'serial'), eventTypes: ['s.*'], ordered: true });
    const names = Array.from({ length: 10 }, (_, i) => `n${i}`);
    const events = names.flatMap((name) => [
      { type: 'k.x', payload: { name, key: 'a' }, orderingKey: 'a' },
      { type: 'k.x', payload: { name, key: 'b' }, orderingKey: 'b' },
      { type: 's.x', payload: { name } },
    ]);
    expect((await herald.api.post(`/v1/tenants/${t}/events/batch`, { events })).status).toBe(202);
    const got = (await rabbit.waitFor(keyed, 20)).map((m) => JSON.parse(m.content.toString()) as { name: string; key: string });
    expect(got.filter((p) => p.key === 'a').map((p) => p.name)).toEqual(names);
    expect(got.filter((p) => p.key === 'b').map((p) => p.name)).toEqual(names);
    expect((await rabbit.waitFor(serial, 10)).map((m) => JSON.parse(m.content.toString()).name)).toEqual(names);
  });
});

describe('what the broker does not take is a failed attempt, retried on schedule', () => {
  const failsWith = async (t: string, endpointBody: Record<string, unknown>, code: string) => {
    const ep = await herald.api.endpoint(t, { ...endpointBody, retry: { schedule: [0.2, 0.3], jitter: 0 } });
    const pub = await herald.api.publish(t, 'a.b', { n: 1 });
    const d = await herald.api.waitDelivery(t, await deliveryOf(t, pub.body.id, ep.id), (x) => x.status === 'failed', 15_000);
    expect(d.attempts).toBe(3);
    expect(d.attemptLog.map((a: any) => a.error?.code)).toEqual([code, code, code]);
    expect(d.lastErrorCode).toBe(code);
    const starts = d.attemptLog.map((a: any) => Date.parse(a.startedAt));
    expect(starts[1] - starts[0]).toBeGreaterThanOrEqual(190);
    expect(starts[2] - starts[1]).toBeGreaterThanOrEqual(290);
    return d;
  };

  it('unroutable (no queue bound for the routing key, published mandatory)', async () => {
    const t = await herald.api.tenant();
    const exchange = await rabbit.exchange();
    const d = await failsWith(t, { destination: rabbitmq(exchange, 'nobody-listens') }, 'unroutable');
    expect(d.attemptLog[0].error.message).toContain('nobody-listens');
  });

  it('an exchange that does not exist, without disturbing another exchange on the same broker', async () => {
    const t = await herald.api.tenant();
    const exchange = await rabbit.exchange();
    const queue = await rabbit.queue(exchange, 'ok');
    await herald.api.endpoint(t, { destination: rabbitmq(exchange, 'ok') });
    const d = await failsWith(t, { destination: rabbitmq('herald-test-missing-exchange') }, 'exchange_not_found');
    expect(d.attemptLog[0].error.message).toContain('herald-test-missing-exchange');
    expect(await rabbit.waitFor(queue, 1)).toHaveLength(1);
  });

  it('credentials the broker refuses', async () => {
    const t = await herald.api.tenant();
    const exchange = await rabbit.exchange();
    await rabbit.queue(exchange, 'hooks');
    const d = await failsWith(t, { destination: rabbitmq(exchange, 'hooks', 'amqp://guest:wrong-password@127.0.0.1:5672') }, 'auth_failed');
    expect(JSON.stringify(d)).not.toContain('wrong-password');
  });

  it('a broker that is down: connect_refused, and an HTTP endpoint of the tenant is delivered meanwhile', async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/beside-down-broker') });
    const port = await closedPort();
    const started = Date.now();
    await failsWith(t, { destination: rabbitmq('x', 'k', `amqp://guest:guest@127.0.0.1:${port}`) }, 'connect_refused');
    expect(receiver.at('/beside-down-broker')).toHaveLength(1);
    expect(receiver.at('/beside-down-broker')[0]!.at - started).toBeLessThan(2_000);
  });

  it('a broker that never answers times out within the endpoint’s timeout', async () => {
    const silent = createServer(() => undefined); // accepts, never speaks AMQP
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const t = await herald.api.tenant();
      const port = (silent.address() as { port: number }).port;
      await herald.api.endpoint(t, { destination: rabbitmq('x', 'k', `amqp://guest:guest@127.0.0.1:${port}`), timeoutMs: 500, retry: { schedule: [] } });
      const pub = await herald.api.publish(t, 'a.b', { n: 1 });
      const d = await herald.api.waitDelivery(t, await deliveryOf(t, pub.body.id), (x) => x.status === 'failed');
      expect(d.attemptLog[0].error.code).toMatch(/timeout/);
      expect(d.attemptLog[0].durationMs).toBeLessThan(2_000);
    } finally {
      silent.close();
    }
  });
});

describe('connections', () => {
  it('connects again after the connection drops, and closes it when the worker stops', async () => {
    // a TCP relay to the broker that the test can cut (the machine's RabbitMQ is shared: never restarted)
    const sockets = new Set<Socket>();
    const relay = createServer((client) => {
      const upstream = connectTcp(5672, '127.0.0.1');
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s)).on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const own = await startHerald();
    try {
      const port = (relay.address() as { port: number }).port;
      const exchange = await rabbit.exchange();
      const queue = await rabbit.queue(exchange, 'relay');
      const t = await own.api.tenant();
      await own.api.endpoint(t, { destination: rabbitmq(exchange, 'relay', `amqp://guest:guest@127.0.0.1:${port}`), retry: { schedule: Array(10).fill(0.3), jitter: 0 } });
      await own.api.publish(t, 'a.b', { n: 1 });
      await rabbit.waitFor(queue, 1);
      expect(sockets.size).toBe(2); // one connection, both legs

      for (const s of sockets) s.destroy();
      await own.api.publish(t, 'a.b', { n: 2 });
      await rabbit.waitFor(queue, 2);
      expect(sockets.size).toBe(2);

      await own.stop();
      const until = Date.now() + 5_000;
      while (sockets.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect(sockets.size).toBe(0);
    } finally {
      await own.stop();
      relay.close();
    }
  });
});

describe('validation', () => {
  const create = (t: string, body: unknown) => herald.api.post(`/v1/tenants/${t}/endpoints`, body);
  const field = (r: { status: number; body: any }) => {
    expect(r.status).toBe(400);
    return r.body.error.details[0].field as string;
  };

  it('answers 400 naming the field', async () => {
    const t = await herald.api.tenant();
    expect(field(await create(t, { destination: { type: 'kafka', url: 'kafka://h:9092' } }))).toBe('destination.type');
    expect(field(await create(t, { destination: { type: 'rabbitmq', url: RABBITMQ_URL } }))).toBe('destination.exchange');
    expect(field(await create(t, { destination: { type: 'rabbitmq', url: 'http://127.0.0.1:5672', exchange: 'x' } }))).toBe('destination.url');
    expect(field(await create(t, { destination: { type: 'rabbitmq', url: 'not a url', exchange: 'x' } }))).toBe('destination.url');
    expect(field(await create(t, { destination: { type: 'rabbitmq', url: RABBITMQ_URL, exchange: 'x', subject: 'a' } }))).toBe('destination.subject');
    expect(field(await create(t, { destination: { type: 'nats', url: 'nats://127.0.0.1:4222' } }))).toBe('destination.subject');
    expect(field(await create(t, { destination: { type: 'nats', url: 'nats://127.0.0.1:4222', subject: 'a.*' } }))).toBe('destination.subject');
    expect(field(await create(t, { destination: { type: 'nats', url: RABBITMQ_URL, subject: 'a' } }))).toBe('destination.url');
    expect(field(await create(t, { url: 'http://127.0.0.1:1/x', destination: rabbitmq('x') }))).toBe('destination');
    expect(field(await create(t, { description: 'neither' }))).toBe('url');
    expect((await herald.api.get(`/v1/tenants/${t}/endpoints`)).body.data).toHaveLength(0);
  });

  it('outside dev mode: TLS only, and the address policy applies to broker hosts', async () => {
    const strict = await startHerald({ dev: false }, { api: true, worker: false });
    try {
      const t = await strict.api.tenant();
      const c = (url: string) => strict.api.post(`/v1/tenants/${t}/endpoints`, { destination: { type: 'rabbitmq', url, exchange: 'x' } });
      const plain = await c('amqp://u:p@rabbit.example.com:5672');
      expect(field(plain)).toBe('destination.url');
      expect(plain.body.error.message).toContain('amqps');
      const loopback = await c('amqps://u:p@127.0.0.1:5671');
      expect(field(loopback)).toBe('destination.url');
      expect(loopback.body.error.message).toContain('blocked');
      expect(field(await strict.api.post(`/v1/tenants/${t}/endpoints`, { destination: { type: 'nats', url: 'tls://10.0.0.8:4222', subject: 'a' } }))).toBe('destination.url');
      expect((await c('amqps://u:p@rabbit.example.com:5671/vhost')).status).toBe(201);
    } finally {
      await strict.stop();
    }
  });
});

describe('editing', () => {
  it('keeps the stored credentials when the masked URL is sent back, and turns into an HTTP endpoint with a url', async () => {
    const t = await herald.api.tenant();
    const exchange = await rabbit.exchange();
    const queue = await rabbit.queue(exchange, 'r2');
    const ep = await herald.api.endpoint(t, { destination: rabbitmq(exchange, 'r1') });
    const shown = (await herald.api.get(`/v1/tenants/${t}/endpoints/${ep.id}`)).body.destination;
    const patched = await herald.api.patch(`/v1/tenants/${t}/endpoints/${ep.id}`, { destination: { ...shown, routingKey: 'r2' } });
    expect(patched.status).toBe(200);
    expect(patched.body.destination.routingKey).toBe('r2');
    await herald.api.publish(t, 'a.b', { n: 2 });
    expect(await rabbit.waitFor(queue, 1)).toHaveLength(1); // guest:guest kept: the broker accepted it

    const audit = await herald.api.get(`/v1/tenants/${t}/audit-log`);
    expect(JSON.stringify(audit.body)).not.toContain('guest:guest');

    const http = await herald.api.patch(`/v1/tenants/${t}/endpoints/${ep.id}`, { url: receiver.url('/was-a-broker') });
    expect(http.body.destination).toBeNull();
    await herald.api.publish(t, 'a.b', { n: 3 });
    await receiver.waitForCount('/was-a-broker', 1);
  });
});
