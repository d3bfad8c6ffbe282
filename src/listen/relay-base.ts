import type { AddressInfo } from 'node:net';

/**
 * The origin at which workers reach this API process for relays: the
 * configured HERALD_LISTEN_RELAY_URL, else the address the API listens on
 * (a wildcard address is reached at loopback, which holds for `herald
 * serve` and for workers on the same machine; other set-ups configure it).
 */
export function relayBase(configured: string | undefined, address: AddressInfo | string | null): string {
  if (configured) return new URL(configured).origin;
  if (!address || typeof address === 'string') throw new Error('the API is not listening on a TCP port; set HERALD_LISTEN_RELAY_URL');
  let host = address.address;
  if (host === '0.0.0.0') host = '127.0.0.1';
  else if (host === '::') host = '::1';
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}
