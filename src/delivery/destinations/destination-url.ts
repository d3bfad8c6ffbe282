import type { BrokerDestination, DestinationType } from './types.js';

/** URL schemes per destination type: the TLS one, then the plain one (allowed in dev mode only, as http: is). */
export const SCHEMES: Record<DestinationType, { tls: string; plain: string; port: number }> = {
  rabbitmq: { tls: 'amqps:', plain: 'amqp:', port: 5672 },
  nats: { tls: 'tls:', plain: 'nats:', port: 4222 },
};

/** The URL with its password replaced by `***` (user names stay: they say which account is used). */
export function maskUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return '***';
  }
  if (u.password) u.password = '***';
  // nats://token@host: the user part is the token
  else if (u.username && u.protocol !== 'amqp:' && u.protocol !== 'amqps:') u.username = '***';
  return u.toString();
}

export function maskedDestination(d: BrokerDestination): BrokerDestination {
  return { ...d, url: maskUrl(d.url) };
}
