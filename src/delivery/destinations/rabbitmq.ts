import type { ChannelModel, ConfirmChannel, Message } from 'amqplib';
import type { AddressPolicy } from '../../security/address-policy.js';
import type { Send } from '../sender.js';
import { allowedAddress } from './broker-address.js';
import { brokerSend, DestinationError } from './broker-send.js';
import { ConnectionPool } from './connection-pool.js';
import type { OutboundMessage, RabbitMqDestination, Transport } from './types.js';

/** One connection to a broker URL and its confirm channels, one per exchange. */
interface Link {
  model: ChannelModel;
  /** A channel error (e.g. an exchange that does not exist) closes only that exchange's channel. */
  channels: Map<string, Promise<Confirmed>>;
}

/** A confirm channel and the messages the broker returned as unroutable (by message id), which its next ack then fails. */
interface Confirmed {
  channel: ConfirmChannel;
  returned: Set<string>;
  /** Why the broker closed the channel, when it did. */
  closedBy: Error | null;
}

/**
 * RabbitMQ (AMQP 0-9-1) with publisher confirms: a message counts as
 * delivered only once the broker acknowledged it; published `mandatory`,
 * so a message no queue is bound for comes back (basic.return, before its
 * ack) and the attempt fails as `unroutable` instead of vanishing.
 * Messages are persistent; the signature, ids and event type travel as
 * AMQP headers, the signed body as the content.
 */
export class RabbitMqTransport implements Transport<RabbitMqDestination> {
  private readonly pool: ConnectionPool<Link>;

  constructor(private readonly policy: AddressPolicy) {
    this.pool = new ConnectionPool({ connect: (url, timeoutMs, forget) => this.connect(url, timeoutMs, forget), close: (l) => l.model.close() });
  }

  start(dest: RabbitMqDestination, msg: OutboundMessage): Send {
    return brokerSend(msg.timeoutMs, async (progress) => {
      const link = await this.pool.get(dest.url, msg.timeoutMs);
      const ch = await channelFor(link, dest.exchange);
      progress.connected = true;
      await publish(ch, dest, msg);
    });
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  private async connect(url: string, timeoutMs: number, forget: () => void): Promise<Link> {
    const u = new URL(url);
    const tls = u.protocol === 'amqps:';
    const address = await allowedAddress(this.policy, u.hostname);
    let model: ChannelModel;
    try {
      // loaded with the first connection: a worker without RabbitMQ endpoints never holds the client (see nats.ts)
      const { connect } = await import('amqplib');
      model = await connect(
        {
          protocol: tls ? 'amqps' : 'amqp',
          hostname: address,
          port: u.port ? Number(u.port) : tls ? 5671 : 5672,
          username: u.username ? decodeURIComponent(u.username) : 'guest',
          password: u.password ? decodeURIComponent(u.password) : 'guest',
          // amqp://host and amqp://host/ mean the default vhost "/"; amqp://host/%2f names it
          vhost: u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : '/',
          heartbeat: 30,
        },
        { timeout: timeoutMs, ...(tls ? { servername: u.hostname } : {}) },
      );
    } catch (err) {
      throw connectError(err);
    }
    const link: Link = { model, channels: new Map() };
    model.on('error', () => undefined); // 'close' follows; an unhandled 'error' would crash the process
    model.on('close', forget);
    return link;
  }
}

function channelFor(link: Link, exchange: string): Promise<Confirmed> {
  let ch = link.channels.get(exchange);
  if (!ch) {
    ch = (async () => {
      const channel = await link.model.createConfirmChannel();
      const c: Confirmed = { channel, returned: new Set(), closedBy: null };
      channel.on('error', (err: Error) => {
        c.closedBy = err;
      });
      channel.on('close', () => {
        if (link.channels.get(exchange) === ch) link.channels.delete(exchange);
      });
      channel.on('return', (m: Message) => {
        if (typeof m.properties.messageId === 'string') c.returned.add(m.properties.messageId);
      });
      return c;
    })();
    link.channels.set(exchange, ch);
    ch.catch(() => link.channels.delete(exchange));
  }
  return ch;
}

function publish(c: Confirmed, dest: RabbitMqDestination, msg: OutboundMessage): Promise<void> {
  // The delivery id: unique among the publishes in flight (a delivery is sent by one worker at a time).
  const id = msg.deliveryId;
  c.returned.delete(id);
  return new Promise((resolve, reject) => {
    try {
      c.channel.publish(
        dest.exchange,
        dest.routingKey,
        Buffer.from(msg.body),
        {
          mandatory: true,
          persistent: true,
          contentType: 'application/json',
          messageId: id,
          type: msg.headers['webhook-event-type'],
          headers: msg.headers,
        },
        (err: unknown) => {
          if (err) reject(c.closedBy ? channelError(c.closedBy, dest) : new DestinationError('nacked', 'the broker refused the message (basic.nack)'));
          else if (c.returned.delete(id)) {
            reject(new DestinationError('unroutable', `no queue is bound to exchange "${dest.exchange}" for routing key "${dest.routingKey}" (published mandatory)`));
          } else resolve();
        },
      );
    } catch (err) {
      // the channel closed since it was taken from the pool
      reject(c.closedBy ? channelError(c.closedBy, dest) : new DestinationError('broker_closed', `the channel closed: ${(err as Error).message}`));
    }
  });
}

/** Names what closed a channel: a missing exchange is the usual cause. */
function channelError(err: Error, dest: RabbitMqDestination): DestinationError {
  if (/NOT[-_]FOUND/.test(err.message)) return new DestinationError('exchange_not_found', `exchange "${dest.exchange}" does not exist on the broker`, { cause: err });
  if (/ACCESS[-_]REFUSED/.test(err.message)) return new DestinationError('access_refused', `the broker refused access: ${err.message}`, { cause: err });
  return new DestinationError('broker_closed', `the broker closed the channel: ${err.message}`, { cause: err });
}

/** Names a failed connect: refused credentials and unknown vhosts are told from network failures. */
function connectError(err: unknown): unknown {
  const message = (err as Error).message ?? String(err);
  if (/ACCESS[-_]REFUSED/.test(message)) return new DestinationError('auth_failed', `the broker refused the credentials: ${message}`, { cause: err });
  if (/NOT[-_]ALLOWED/.test(message)) return new DestinationError('not_allowed', `the broker refused the connection: ${message}`, { cause: err });
  return err;
}
