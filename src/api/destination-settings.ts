import type { BrokerDestination, DestinationType } from '../delivery/destinations/types.js';
import { maskUrl, maskedDestination, SCHEMES } from '../delivery/destinations/destination-url.js';
import { checkUrl, type AddressPolicy } from '../security/address-policy.js';
import { errors } from '../errors.js';

/** `destination` as a request carries it (the schema checks types and lengths; this checks the rest). */
export interface DestinationInput {
  type: string;
  url: string;
  exchange?: string;
  routingKey?: string;
  subject?: string;
}

/** A checked destination: as the API shows it (masked) and its URL in clear. */
export interface CheckedDestination {
  destination: BrokerDestination;
  brokerUrl: string;
}

const FIELDS: Record<DestinationType, readonly string[]> = {
  rabbitmq: ['type', 'url', 'exchange', 'routingKey'],
  nats: ['type', 'url', 'subject'],
};
/** A NATS subject to publish to: dot-separated tokens of printable characters, no wildcards. */
const NATS_SUBJECT = /^[^\s.*>]+(\.[^\s.*>]+)*$/;

/**
 * Checks a broker destination at save time: its type, the fields its type
 * needs, the URL's scheme (TLS outside dev mode, as HTTPS for URLs) and
 * host (the address policy, as for URLs; names are checked again where
 * the worker connects). Reachability is not checked: an unreachable
 * broker shows as failed attempts. Each problem is a 400 naming the field.
 *
 * `current` is the endpoint's destination when it has one: a URL sent
 * back masked (as GET showed it) keeps the stored credentials.
 */
export function checkDestination(
  d: DestinationInput,
  opts: { dev: boolean; policy: AddressPolicy },
  current: { destination: BrokerDestination | null; brokerUrl: string | null } | null,
): CheckedDestination {
  if (d.type !== 'rabbitmq' && d.type !== 'nats') throw errors.invalidField('destination.type', `unknown destination type "${d.type}"; one of rabbitmq, nats`);
  const type: DestinationType = d.type;
  for (const k of Object.keys(d)) {
    if (!FIELDS[type].includes(k)) throw errors.invalidField(`destination.${k}`, `is not a field of ${type} destinations (${FIELDS[type].join(', ')})`);
  }
  const brokerUrl = current?.brokerUrl && current.destination?.type === type && d.url === maskUrl(current.brokerUrl) ? current.brokerUrl : checkBrokerUrl(type, d.url, opts);
  let destination: BrokerDestination;
  if (type === 'rabbitmq') {
    if (d.exchange === undefined) throw errors.invalidField('destination.exchange', 'is required for rabbitmq destinations ("" is the default exchange)');
    destination = { type, url: brokerUrl, exchange: d.exchange, routingKey: d.routingKey ?? '' };
  } else {
    if (d.subject === undefined) throw errors.invalidField('destination.subject', 'is required for nats destinations');
    if (!NATS_SUBJECT.test(d.subject)) throw errors.invalidField('destination.subject', 'must be dot-separated tokens without spaces or wildcards (* >)');
    destination = { type, url: brokerUrl, subject: d.subject };
  }
  return { destination: maskedDestination(destination), brokerUrl };
}

function checkBrokerUrl(type: DestinationType, raw: string, opts: { dev: boolean; policy: AddressPolicy }): string {
  const field = 'destination.url';
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw errors.invalidField(field, 'invalid URL');
  }
  const s = SCHEMES[type];
  if (u.protocol !== s.tls && !(u.protocol === s.plain && opts.dev)) {
    throw errors.invalidField(field, opts.dev ? `must use ${s.plain}// or ${s.tls}//` : `must use ${s.tls}// (${s.plain}// only in dev mode)`);
  }
  if (u.hostname === '') throw errors.invalidField(field, 'must have a host');
  if (u.search || u.hash) throw errors.invalidField(field, 'must not have a query or fragment');
  if (type === 'nats' && u.pathname !== '' && u.pathname !== '/') throw errors.invalidField(field, 'must not have a path');
  // the host is judged as an HTTP endpoint's would be (IP literals, localhost)
  const host = checkUrl(`https://${u.host}/`, { allowHttp: false, policy: opts.policy });
  if (!host.ok) throw errors.invalidField(field, host.reason);
  return u.toString();
}
