import net from 'node:net';
import type { AddressPolicy } from '../../security/address-policy.js';
import { BlockedAddressError, createSafeLookup } from '../../security/safe-lookup.js';

/**
 * The address to dial for a broker host: an IP literal checked against
 * the address policy, or the first address of a hostname that the policy
 * allows (the same lookup the HTTP sender connects through). The broker
 * clients are then given that address, so what is dialled is what was
 * checked, as for HTTP; names are resolved again at every (re)connect.
 */
export function allowedAddress(policy: AddressPolicy, hostname: string): Promise<string> {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (net.isIP(bare) !== 0) {
    const reason = policy.check(bare);
    if (reason !== null) return Promise.reject(new BlockedAddressError(`address ${bare} is blocked (${reason})`, bare, [reason]));
    return Promise.resolve(bare);
  }
  const lookup = createSafeLookup(policy);
  return new Promise((resolve, reject) => {
    lookup(bare, {}, (err, address) => {
      if (err) reject(err);
      else resolve(address as string);
    });
  });
}

/** `host:port` for a dialled address (IPv6 in brackets). */
export function hostPort(address: string, port: number): string {
  return net.isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
}
