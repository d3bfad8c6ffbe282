import type { Dispatcher } from 'undici';
import type { AddressPolicy } from '../../security/address-policy.js';
import type { ClaimedDelivery } from '../queue/types.js';
import { startSend, type OriginConnections, type Send, type SendRequest } from '../sender.js';
import { NatsTransport } from './nats.js';
import { RabbitMqTransport } from './rabbitmq.js';
import type { BrokerDestination, DestinationType, OutboundMessage, Transport } from './types.js';

export type { BrokerDestination, DestinationType, OutboundMessage, Transport } from './types.js';

/**
 * Where the worker's prepared, signed attempts go: an endpoint without a
 * destination is an HTTP URL (the sender, unchanged), one with a destination
 * goes to the transport of its type. Every transport answers with the
 * sender's SendResult, so retries, attempt rows, pacing, circuits and
 * endpoint health need not know which kind an endpoint is. A new kind
 * (Kafka, SQS…) is a type in types.ts, a Transport, and a line here.
 */
export class Destinations {
  private readonly transports: { [K in DestinationType]: Transport<Extract<BrokerDestination, { type: K }>> };

  constructor(
    /** `connections`: the dispatcher's bound per origin, counted so that a send that only waited for a connection is told apart. */
    private readonly http: { dispatcher: Dispatcher; responseBodyCapBytes: number; connections?: OriginConnections | null },
    policy: AddressPolicy,
  ) {
    this.transports = { rabbitmq: new RabbitMqTransport(policy), nats: new NatsTransport(policy) };
  }

  /** Starts one attempt of `d`: the request as prepared (signed, and transformed where the endpoint says so). */
  start(d: ClaimedDelivery, req: SendRequest): Send {
    const dest = d.destination;
    if (dest === null) return startSend(this.http.dispatcher, req, this.http.responseBodyCapBytes, undefined, this.http.connections ?? null);
    const message: OutboundMessage = { headers: req.headers, body: req.body, deliveryId: d.id, timeoutMs: req.timeoutMs };
    return this.transport(dest).start(dest, message);
  }

  private transport<D extends BrokerDestination>(dest: D): Transport<D> {
    return this.transports[dest.type] as unknown as Transport<D>;
  }

  /** Closes the brokers' pooled connections (worker shutdown). */
  async close(): Promise<void> {
    await Promise.all(Object.values(this.transports).map((t) => t.close()));
  }
}
