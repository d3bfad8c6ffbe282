import type { JetStreamClient, MsgHdrs, NatsConnection } from 'nats';
import type { AddressPolicy } from '../../security/address-policy.js';
import type { Send } from '../sender.js';
import { allowedAddress, hostPort } from './broker-address.js';
import { brokerSend, DestinationError } from './broker-send.js';
import { ConnectionPool } from './connection-pool.js';
import type { NatsDestination, OutboundMessage, Transport } from './types.js';

interface Link {
  nc: NatsConnection;
  js: JetStreamClient;
  /** The client's header factory, from the module loaded with the connection. */
  headers: () => MsgHdrs;
}

/**
 * NATS JetStream: a message counts as delivered once the stream that
 * captures its subject acknowledged it (PubAck). A subject no stream
 * captures has no responder, and the attempt fails as `no_stream`. The
 * delivery id is the JetStream message id (Nats-Msg-Id), so a retry after
 * a lost ack is dropped by the stream's duplicate window instead of being
 * stored twice. Connections do not reconnect by themselves (the client
 * would buffer publishes meanwhile): a closed one is forgotten and the
 * next send connects again.
 */
export class NatsTransport implements Transport<NatsDestination> {
  private readonly pool: ConnectionPool<Link>;

  constructor(private readonly policy: AddressPolicy) {
    this.pool = new ConnectionPool({ connect: (url, timeoutMs, forget) => this.connect(url, timeoutMs, forget), close: (l) => l.nc.close() });
  }

  start(dest: NatsDestination, msg: OutboundMessage): Send {
    return brokerSend(msg.timeoutMs, async (progress) => {
      const { js, headers } = await this.pool.get(dest.url, msg.timeoutMs);
      progress.connected = true;
      const h = headers();
      for (const [k, v] of Object.entries(msg.headers)) h.set(k, v);
      try {
        await js.publish(dest.subject, Buffer.from(msg.body), { headers: h, msgID: msg.deliveryId, timeout: msg.timeoutMs });
      } catch (err) {
        throw publishError(err, dest);
      }
    });
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  private async connect(url: string, timeoutMs: number, forget: () => void): Promise<Link> {
    const u = new URL(url);
    const tls = u.protocol === 'tls:';
    const address = await allowedAddress(this.policy, u.hostname);
    const user = decodeURIComponent(u.username);
    const pass = decodeURIComponent(u.password);
    // loaded with the first connection: a worker without NATS endpoints never holds the client
    // (with amqplib's the same way, an idle worker's RSS went from 90 to 87 MB)
    const nats = await import('nats');
    let nc: NatsConnection;
    try {
      nc = await nats.connect({
        // TLS checks the certificate against the name, so the client dials the (checked) name
        // itself; plain connections dial the checked address, as the HTTP sender does
        servers: hostPort(tls ? u.hostname : address, u.port ? Number(u.port) : 4222),
        name: 'herald',
        timeout: timeoutMs,
        reconnect: false,
        // nats://user:pass@host, or nats://token@host
        ...(user && pass ? { user, pass } : user ? { token: user } : {}),
        ...(tls ? { tls: {} } : {}),
      });
    } catch (err) {
      throw connectError(err);
    }
    void nc.closed().then(forget, forget);
    return { nc, js: nc.jetstream(), headers: nats.headers };
  }
}

const codeOf = (err: unknown): string => String((err as { code?: unknown }).code ?? '');

function connectError(err: unknown): unknown {
  const code = codeOf(err);
  const message = (err as Error).message ?? String(err);
  if (code === 'AUTHORIZATION_VIOLATION' || code === 'BAD_AUTHENTICATION' || code === 'AUTHENTICATION_EXPIRED') {
    return new DestinationError('auth_failed', `the broker refused the credentials: ${message}`, { cause: err });
  }
  if (code === 'CONNECTION_REFUSED') return new DestinationError('connect_refused', 'connection refused', { cause: err });
  if (code === 'CONNECTION_TIMEOUT' || code === 'TIMEOUT') return new DestinationError('connect_timeout', 'connect timed out', { cause: err });
  return err;
}

function publishError(err: unknown, dest: NatsDestination): unknown {
  const code = codeOf(err);
  const message = (err as Error).message ?? String(err);
  if (code === '503') return new DestinationError('no_stream', `no JetStream stream captures subject "${dest.subject}" (no responders)`, { cause: err });
  if (code === 'TIMEOUT') return new DestinationError('timeout', 'the stream did not acknowledge the message in time', { cause: err });
  if (code === 'PERMISSIONS_VIOLATION') return new DestinationError('access_refused', `the broker refused the publish: ${message}`, { cause: err });
  if (code === 'CONNECTION_CLOSED' || code === 'DISCONNECT') return new DestinationError('broker_closed', `the connection closed: ${message}`, { cause: err });
  return new DestinationError('publish_failed', message, { cause: err });
}
