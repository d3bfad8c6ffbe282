import { randomBytes } from 'node:crypto';
import { connect, type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { connect as natsConnect, StorageType, type JetStreamManager, type NatsConnection } from 'nats';

/** The brokers this machine runs (.ci/run starts them): RabbitMQ with guest/guest, NATS with JetStream. */
export const RABBITMQ_URL = process.env.HERALD_TEST_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
export const NATS_URL = process.env.HERALD_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

export const uniqueName = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

/** A RabbitMQ consumer for tests: declares exchanges and queues, and keeps what arrives per queue. */
export class RabbitConsumer {
  readonly received = new Map<string, ConsumeMessage[]>();
  private readonly exchanges: string[] = [];
  private constructor(
    private readonly model: ChannelModel,
    readonly channel: Channel,
  ) {}

  static async open(): Promise<RabbitConsumer> {
    const model = await connect(RABBITMQ_URL);
    return new RabbitConsumer(model, await model.createChannel());
  }

  /** A fresh exchange, deleted by close(). */
  async exchange(type: 'direct' | 'topic' = 'direct'): Promise<string> {
    const name = uniqueName('herald-test-x');
    await this.channel.assertExchange(name, type, { durable: false, autoDelete: false });
    this.exchanges.push(name);
    return name;
  }

  /** An exclusive queue bound to `exchange` with `routingKey`, consumed into `received`. */
  async queue(exchange: string, routingKey: string): Promise<string> {
    const q = await this.channel.assertQueue('', { exclusive: true });
    await this.channel.bindQueue(q.queue, exchange, routingKey);
    this.received.set(q.queue, []);
    await this.channel.consume(q.queue, (m) => {
      if (m) this.received.get(q.queue)!.push(m);
    }, { noAck: true });
    return q.queue;
  }

  async waitFor(queue: string, n: number, timeoutMs = 10_000): Promise<ConsumeMessage[]> {
    const until = Date.now() + timeoutMs;
    while ((this.received.get(queue)?.length ?? 0) < n) {
      if (Date.now() > until) throw new Error(`queue ${queue}: ${this.received.get(queue)?.length ?? 0} of ${n} messages`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return this.received.get(queue)!;
  }

  async close(): Promise<void> {
    for (const x of this.exchanges) await this.channel.deleteExchange(x).catch(() => undefined);
    await this.model.close().catch(() => undefined);
  }
}

/** A NATS connection for tests, with JetStream streams it creates and deletes. */
export class NatsStreams {
  private readonly streams: string[] = [];
  private constructor(
    readonly nc: NatsConnection,
    readonly jsm: JetStreamManager,
  ) {}

  static async open(): Promise<NatsStreams> {
    const nc = await natsConnect({ servers: NATS_URL.replace(/^nats:\/\//, '') });
    return new NatsStreams(nc, await nc.jetstreamManager());
  }

  /** A fresh in-memory stream capturing `subjects`. */
  async stream(subjects: string[]): Promise<string> {
    const name = uniqueName('herald-test').replace(/-/g, '_');
    await this.jsm.streams.add({ name, subjects, storage: StorageType.Memory });
    this.streams.push(name);
    return name;
  }

  /** The stream's messages, oldest first (waits until `n` are stored). */
  async messages(stream: string, n: number, timeoutMs = 10_000) {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const info = await this.jsm.streams.info(stream);
      if (info.state.messages >= n) break;
      if (Date.now() > until) throw new Error(`stream ${stream}: ${info.state.messages} of ${n} messages`);
      await new Promise((r) => setTimeout(r, 25));
    }
    const out = [];
    const info = await this.jsm.streams.info(stream);
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) out.push(await this.jsm.streams.getMessage(stream, { seq }));
    return out;
  }

  async close(): Promise<void> {
    for (const s of this.streams) await this.jsm.streams.delete(s).catch(() => undefined);
    await this.nc.close();
  }
}

