/**
 * Connect-time SSRF enforcement for outbound deliveries.
 *
 * Checking a URL when the endpoint is registered is not enough: DNS can
 * answer differently at delivery time (rebinding). So the addresses are
 * checked where the socket is opened: a `lookup` for net/tls.connect that
 * drops blocked answers, so the address that is dialled is the address
 * that was checked. Node skips `lookup` for IP-literal hosts, so the
 * undici connector checks those itself before delegating.
 */
import dns from 'node:dns';
import net from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Agent, buildConnector } from 'undici';
import type { AddressPolicy } from './address-policy.js';

export const BLOCKED_ADDRESS_CODE = 'ERR_HERALD_BLOCKED_ADDRESS';

export class BlockedAddressError extends Error {
  readonly code = BLOCKED_ADDRESS_CODE;

  constructor(
    message: string,
    readonly host: string,
    readonly reasons: readonly string[],
  ) {
    super(message);
    this.name = 'BlockedAddressError';
  }
}

/** The `all: true` form of dns.lookup; `dns.lookup` itself fits, tests inject fakes. */
export type Resolver = (
  hostname: string,
  options: dns.LookupAllOptions,
  callback: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void,
) => void;

/**
 * A `net.LookupFunction` that resolves every address of `hostname` and keeps
 * only those the policy allows. Fails with BLOCKED_ADDRESS_CODE when none is
 * left, rather than falling back to anything.
 */
export function createSafeLookup(policy: AddressPolicy, resolve: Resolver = dns.lookup): net.LookupFunction {
  return (hostname, options, callback) => {
    const fail = (err: NodeJS.ErrnoException): void => {
      if (options.all) callback(err, []);
      else callback(err, '', 0);
    };
    // Always ask for every address: with a single answer a blocked first
    // record would hide an allowed second one (and vice versa).
    const query: dns.LookupAllOptions = { all: true };
    if (options.family !== undefined) query.family = options.family;
    if (options.hints !== undefined) query.hints = options.hints;
    if (options.order !== undefined) query.order = options.order;
    if (options.verbatim !== undefined) query.verbatim = options.verbatim;

    resolve(hostname, query, (err, addresses) => {
      if (err) return fail(err);
      const kept: dns.LookupAddress[] = [];
      const reasons = new Set<string>();
      for (const entry of addresses) {
        const reason = policy.check(entry.address);
        if (reason === null) kept.push(entry);
        else reasons.add(reason);
      }
      const first = kept[0];
      if (first === undefined) {
        if (reasons.size === 0) {
          const notFound: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
          notFound.code = 'ENOTFOUND';
          return fail(notFound);
        }
        const list = [...reasons];
        return fail(
          new BlockedAddressError(`host ${hostname} resolves only to blocked addresses (${list.join(', ')})`, hostname, list),
        );
      }
      if (options.all) callback(null, kept);
      else callback(null, first.address, first.family);
    });
  };
}

/**
 * Wraps an undici connector so IP-literal hosts are checked against the
 * policy; net.connect never calls `lookup` for them. Hostnames go through
 * to the inner connector, whose `lookup` checks what they resolve to.
 */
export function guardConnector(policy: AddressPolicy, inner: buildConnector.connector): buildConnector.connector {
  return (options, callback) => {
    // undici strips the brackets from IPv6 hosts, but do not rely on it.
    const hostname = options.hostname;
    const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
    if (net.isIP(bare) !== 0) {
      const reason = policy.check(bare);
      if (reason !== null) {
        const err = new BlockedAddressError(`address ${bare} is blocked (${reason})`, bare, [reason]);
        // Asynchronous like a real socket error: undici's client is mid-connect.
        process.nextTick(() => callback(err, null));
        return;
      }
    }
    inner(options, callback);
  };
}

export interface SafeDispatcherOptions {
  policy: AddressPolicy;
  /** Max sockets per origin. */
  connections?: number;
  /** Underlying resolver (dns.lookup by default); always filtered by the policy. */
  lookup?: Resolver;
  tls?: { rejectUnauthorized?: boolean; ca?: ConnectionOptions['ca'] };
  /** TCP+TLS connect timeout in ms. */
  connectTimeout?: number;
}

/** An undici Agent that can only open connections to addresses the policy allows. */
export function createSafeDispatcher(opts: SafeDispatcherOptions): Agent {
  const connectOpts: buildConnector.BuildOptions = {
    timeout: opts.connectTimeout ?? 10_000,
    lookup: createSafeLookup(opts.policy, opts.lookup),
  };
  // Only set TLS fields that were given: an explicit `undefined` would
  // override tls.connect's secure default for rejectUnauthorized.
  if (opts.tls?.rejectUnauthorized !== undefined) connectOpts.rejectUnauthorized = opts.tls.rejectUnauthorized;
  if (opts.tls?.ca !== undefined) connectOpts.ca = opts.tls.ca;

  return new Agent({
    connect: guardConnector(opts.policy, buildConnector(connectOpts)),
    connections: opts.connections ?? 64,
    keepAliveTimeout: 30_000,
  });
}
