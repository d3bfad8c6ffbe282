import type { Send } from '../sender.js';

/** A RabbitMQ (AMQP 0-9-1) destination: messages are published to `exchange` with `routingKey`. */
export interface RabbitMqDestination {
  type: 'rabbitmq';
  /** `amqp://user:pass@host:5672/vhost` (or `amqps://`), in clear: only the worker and the store hold it so. */
  url: string;
  /** Exchange to publish to ("" is the default exchange, which routes by queue name). */
  exchange: string;
  routingKey: string;
}

/** A NATS JetStream destination: messages are published to `subject`, which a stream must capture. */
export interface NatsDestination {
  type: 'nats';
  /** `nats://[user:pass@]host:4222` (or `tls://`), in clear. */
  url: string;
  subject: string;
}

/** Where an endpoint that is not an HTTP URL delivers. More kinds (Kafka, SQS…) join this union and the registry in index.ts. */
export type BrokerDestination = RabbitMqDestination | NatsDestination;
export type DestinationType = BrokerDestination['type'];

/** One prepared, signed message, as the worker hands it to a destination. */
export interface OutboundMessage {
  /** The signed headers of the attempt (webhook-id, webhook-timestamp, signature, event type, the endpoint's own). */
  headers: Record<string, string>;
  /** The exact bytes that were signed. */
  body: string;
  /** Stable across retries of this delivery: brokers that deduplicate (JetStream) use it as the message id. */
  deliveryId: string;
  /** The whole attempt's budget, connect included, in milliseconds. */
  timeoutMs: number;
}

/**
 * A kind of broker destination. `start` never throws: every failure,
 * connect and timeout included, comes back as a failed SendResult with an
 * errorCode, exactly as an HTTP send does, so the queue records, retries
 * and judges health the same way for every kind.
 */
export interface Transport<D extends BrokerDestination = BrokerDestination> {
  start(destination: D, message: OutboundMessage): Send;
  /** Closes every pooled connection (worker shutdown). */
  close(): Promise<void>;
}
