import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as natsConnect, StorageType } from 'nats';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { createConnection } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from './helpers/herald.js';
import { Receiver } from './helpers/receiver.js';
import { NATS_URL, NatsStreams, uniqueName } from './helpers/brokers.js';
import { closedPort } from './helpers/process.js';

/*
 * NATS JetStream destinations end to end, against the NATS server this
 * machine runs: a publish lands in the stream that captures the subject,
 * signed; a subject no stream captures, or a server that is down, is a
 * failed attempt retried on the endpoint's schedule.
 */

let herald: TestHerald;
let nats: NatsStreams;
let receiver: Receiver;

beforeAll(async () => {
  herald = await startHerald();
  nats = await NatsStreams.open();
  receiver = await new Receiver().listen();
});
afterAll(async () => {
  await herald?.stop();
  await nats?.close();
  await receiver?.close();
});

const natsDest = (subject: string, url = NATS_URL) => ({ type: 'nats', url, subject });
const deliveryOf = async (t: string, eventId: string, endpointId: string): Promise<string> =>
  (await herald.api.get(`/v1/tenants/${t}/events/${eventId}/deliveries`)).body.data.find((d: any) => d.endpointId === endpointId).id;

describe('publishing to NATS JetStream', () => {
  it('stores the signed payload in the stream, with ids, signature and event type as headers and the delivery id as Nats-Msg-Id', async () => {
    const t = await herald.api.tenant();
    const subject = `${uniqueName('hooks')}.billing`;
    const stream = await nats.stream([subject]);
    const ep = await herald.api.post(`/v1/tenants/${t}/endpoints`, { destination: natsDest(subject) });
    expect(ep.status).toBe(201);
    expect(ep.body.destination).toEqual({ type: 'nats', url: 'nats://127.0.0.1:4222', subject });

    const payload = { orderId: 'o_1', total: 12.5, tags: ['a', 'b'] };
    const pub = await herald.api.publish(t, 'order.created', payload);
    const [m] = await nats.messages(stream, 1);
    const body = new TextDecoder().decode(m!.data);
    expect(body).toBe(JSON.stringify(payload));
    expect(m!.subject).toBe(subject);
    const h = (k: string) => m!.header.get(k);
    expect(h('webhook-id')).toBe(pub.body.id);
    expect(h('webhook-event-type')).toBe('order.created');
    const headers = { 'webhook-id': h('webhook-id'), 'webhook-timestamp': h('webhook-timestamp'), 'webhook-signature': h('webhook-signature') };
    expect(new StandardWebhook(ep.body.secret).verify(body, headers)).toEqual(payload);

    const deliveryId = await deliveryOf(t, pub.body.id, ep.body.id);
    expect(h('Nats-Msg-Id')).toBe(deliveryId);
    const d = await herald.api.waitDelivery(t, deliveryId, (x) => x.status === 'succeeded');
    expect(d.attemptLog).toHaveLength(1);
  });

  it('keeps an ordering key’s events in publish order', async () => {
    const t = await herald.api.tenant();
    const subject = `${uniqueName('hooks')}.ordered`;
    const stream = await nats.stream([subject]);
    await herald.api.endpoint(t, { destination: natsDest(subject) });
    const names = Array.from({ length: 10 }, (_, i) => `n${i}`);
    const events = names.flatMap((name) => ['a', 'b'].map((key) => ({ type: 'k.x', payload: { name, key }, orderingKey: key })));
    expect((await herald.api.post(`/v1/tenants/${t}/events/batch`, { events })).status).toBe(202);
    const got = (await nats.messages(stream, 20)).map((m) => JSON.parse(new TextDecoder().decode(m.data)) as { name: string; key: string });
    expect(got.filter((p) => p.key === 'a').map((p) => p.name)).toEqual(names);
    expect(got.filter((p) => p.key === 'b').map((p) => p.name)).toEqual(names);
  });
});

describe('what the server does not take is a failed attempt, retried on schedule', () => {
  const failsWith = async (t: string, destination: unknown, code: string) => {
    const ep = await herald.api.endpoint(t, { destination, retry: { schedule: [0.2, 0.3], jitter: 0 } });
    const pub = await herald.api.publish(t, 'a.b', { n: 1 });
    const d = await herald.api.waitDelivery(t, await deliveryOf(t, pub.body.id, ep.id), (x) => x.status === 'failed', 15_000);
    expect(d.attemptLog.map((a: any) => a.error?.code)).toEqual([code, code, code]);
    const starts = d.attemptLog.map((a: any) => Date.parse(a.startedAt));
    expect(starts[1] - starts[0]).toBeGreaterThanOrEqual(190);
    expect(starts[2] - starts[1]).toBeGreaterThanOrEqual(290);
    return d;
  };

  it('a subject no stream captures: no_stream, with a message that says so', async () => {
    const t = await herald.api.tenant();
    const subject = `${uniqueName('nostream')}.x`;
    const d = await failsWith(t, natsDest(subject), 'no_stream');
    expect(d.attemptLog[0].error.message).toContain(subject);
  });

  it('a server that is down: connect_refused, while an HTTP endpoint is delivered meanwhile', async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/beside-down-nats') });
    const started = Date.now();
    await failsWith(t, natsDest('a.b', `nats://127.0.0.1:${await closedPort()}`), 'connect_refused');
    expect(receiver.at('/beside-down-nats')[0]!.at - started).toBeLessThan(2_000);
  });

  it('credentials the server refuses: auth_failed (a nats-server of the test’s own, with a user and password)', async () => {
    const port = await closedPort();
    const server = await natsServer(port, ['--user', 'herald', '--pass', 'right']);
    try {
      const t = await herald.api.tenant();
      const d = await failsWith(t, natsDest('a.b', `nats://herald:wrong@127.0.0.1:${port}`), 'auth_failed');
      expect(JSON.stringify(d)).not.toContain('wrong');
    } finally {
      server.kill();
    }
  });

  it('connects again after the server restarts, and closes its connection when the worker stops', async () => {
    const port = await closedPort();
    const monitor = await closedPort();
    const dir = await mkdtemp(join(tmpdir(), 'herald-nats-'));
    const args = ['-m', String(monitor), '-js', '-sd', dir];
    let server = await natsServer(port, args);
    const own = await startHerald();
    const connections = async () => ((await (await fetch(`http://127.0.0.1:${monitor}/connz`)).json()) as { num_connections: number }).num_connections;
    try {
      const admin = await natsConnect({ servers: `127.0.0.1:${port}` });
      await (await admin.jetstreamManager()).streams.add({ name: 'restart', subjects: ['restart.>'], storage: StorageType.File });
      await admin.close();
      const t = await own.api.tenant();
      const ep = await own.api.endpoint(t, { destination: natsDest('restart.x', `nats://127.0.0.1:${port}`), retry: { schedule: Array(10).fill(0.5), jitter: 0 } });
      const deliver = async (n: number) => {
        const pub = await own.api.publish(t, 'a.b', { n });
        return (await own.api.get(`/v1/tenants/${t}/events/${pub.body.id}/deliveries`)).body.data.find((d: any) => d.endpointId === ep.id).id as string;
      };
      await own.api.waitDelivery(t, await deliver(1), (d) => d.status === 'succeeded');
      expect(await connections()).toBe(1);

      server.kill();
      await new Promise((r) => server.once('exit', r));
      const second = await deliver(2);
      const failed = await own.api.waitDelivery(t, second, (d) => d.attempts >= 1);
      expect(['connect_refused', 'broker_closed']).toContain(failed.lastErrorCode);
      server = await natsServer(port, args);
      const d = await own.api.waitDelivery(t, second, (x) => x.status === 'succeeded', 15_000);
      expect(d.attempts).toBeGreaterThanOrEqual(2);
      expect(await connections()).toBe(1);

      await own.stop();
      await eventuallyZero(connections);
    } finally {
      await own.stop();
      // the server writes its JetStream files until it has exited: removing them
      // before that failed with ENOTEMPTY (a CI run)
      if (server.exitCode === null && server.signalCode === null) {
        const exited = new Promise((r) => server.once('exit', r));
        server.kill();
        await exited;
      }
      await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    }
  });

  it('then delivers once a stream captures the subject (the retry finds it)', async () => {
    const t = await herald.api.tenant();
    const subject = `${uniqueName('late')}.x`;
    const ep = await herald.api.endpoint(t, { destination: natsDest(subject), retry: { schedule: [1], jitter: 0 } });
    const pub = await herald.api.publish(t, 'a.b', { n: 1 });
    const id = await deliveryOf(t, pub.body.id, ep.id);
    await herald.api.waitDelivery(t, id, (x) => x.attempts === 1 && x.lastErrorCode === 'no_stream');
    const stream = await nats.stream([subject]);
    const d = await herald.api.waitDelivery(t, id, (x) => x.status === 'succeeded');
    expect(d.attempts).toBe(2);
    expect(await nats.messages(stream, 1)).toHaveLength(1);
  });
});

describe('validation', () => {
  it('answers 400 naming the field', async () => {
    const t = await herald.api.tenant();
    const field = async (destination: unknown) => {
      const r = await herald.api.post(`/v1/tenants/${t}/endpoints`, { destination });
      expect(r.status).toBe(400);
      return r.body.error.details[0].field as string;
    };
    expect(await field({ type: 'nats', url: NATS_URL })).toBe('destination.subject');
    expect(await field({ type: 'nats', url: NATS_URL, subject: 'a b' })).toBe('destination.subject');
    expect(await field({ type: 'nats', url: NATS_URL, subject: 'orders.>' })).toBe('destination.subject');
    expect(await field({ type: 'nats', url: 'https://127.0.0.1:4222', subject: 'a' })).toBe('destination.url');
    expect(await field({ type: 'nats', url: 'nats://127.0.0.1:4222/path', subject: 'a' })).toBe('destination.url');
    expect(await field({ type: 'nats', url: NATS_URL, subject: 'a', exchange: 'x' })).toBe('destination.exchange');
    expect(await field({ type: 'sqs', url: NATS_URL })).toBe('destination.type');
  });

  it('masks a token or password in the URL it shows', async () => {
    const t = await herald.api.tenant();
    const withPass = await herald.api.post(`/v1/tenants/${t}/endpoints`, { destination: natsDest('a.b', 'nats://herald:s3cret@127.0.0.1:4222') });
    expect(withPass.body.destination.url).toBe('nats://herald:***@127.0.0.1:4222');
    const withToken = await herald.api.post(`/v1/tenants/${t}/endpoints`, { destination: natsDest('a.b', 'nats://tok3n@127.0.0.1:4222') });
    expect(withToken.body.destination.url).toBe('nats://***@127.0.0.1:4222');
    const list = await herald.api.get(`/v1/tenants/${t}/endpoints`);
    expect(JSON.stringify(list.body)).not.toMatch(/s3cret|tok3n/);
  });
});

/** A nats-server of the test's own on `port` (stopped by the test), once it accepts connections. */
async function natsServer(port: number, args: string[]): Promise<ChildProcess> {
  const server = spawn(process.env.HERALD_TEST_NATS_SERVER ?? 'nats-server', ['-a', '127.0.0.1', '-p', String(port), ...args], { stdio: 'ignore' });
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    const up = await new Promise<boolean>((r) => {
      const s = createConnection(port, '127.0.0.1', () => r(true)).on('error', () => r(false));
      s.on('connect', () => s.destroy());
    });
    if (up) return server;
    await new Promise((r) => setTimeout(r, 50));
  }
  server.kill();
  throw new Error(`nats-server did not start on port ${port}`);
}

async function eventuallyZero(count: () => Promise<number>): Promise<void> {
  const until = Date.now() + 5_000;
  while ((await count()) !== 0) {
    if (Date.now() > until) throw new Error('connections left open');
    await new Promise((r) => setTimeout(r, 50));
  }
}
