/**
 * SSRF address policy: decides whether an outbound webhook delivery may
 * contact a given IP address, and validates endpoint URLs at creation time.
 *
 * Own parsing instead of net.BlockList: BlockList matches IPv4-mapped IPv6
 * against IPv4 subnets, but not the other IPv6 forms that embed an IPv4
 * address (IPv4-compatible, NAT64, 6to4). Those are routed to the embedded
 * IPv4 host by translators on the path, so they must be judged by the IPv4
 * rules; parsing to integers makes that a few shifts.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface AddressPolicyOptions {
  /** Dev mode: loopback, private, link-local, CGNAT and ULA are allowed. */
  allowPrivate: boolean;
  /** CIDRs ("127.0.0.1/32", "10.0.0.0/8", "::1/128") allowed even when blocked by a rule. */
  allowSubnets: string[];
}

type Family = 4 | 6;

interface Address {
  family: Family;
  value: bigint;
}

interface Cidr {
  family: Family;
  base: bigint;
  prefix: number;
}

interface Verdict {
  reason: string;
  /** True for ranges that `allowPrivate` (dev mode) lets through. */
  privateClass: boolean;
}

interface Rule extends Cidr, Verdict {}

const WIDTH: Record<Family, number> = { 4: 32, 6: 128 };

// ---------------------------------------------------------------------------
// Parsing

/** Dotted quad to integer; the caller has validated it with net.isIPv4. */
function parseV4(s: string): bigint {
  let v = 0n;
  for (const part of s.split('.')) v = (v << 8n) | BigInt(Number(part));
  return v;
}

/** Textual IPv6 to integer; the caller has validated it with net.isIPv6 (no zone). */
function parseV6(s: string): bigint {
  const groups = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        // Trailing dotted quad (::ffff:1.2.3.4) occupies the last two groups.
        const v4 = Number(parseV4(g));
        out.push(Math.floor(v4 / 0x10000), v4 % 0x10000);
      } else {
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  const gap = s.indexOf('::');
  let all: number[];
  if (gap === -1) {
    all = groups(s);
  } else {
    const head = groups(s.slice(0, gap));
    const tail = groups(s.slice(gap + 2));
    all = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  let v = 0n;
  for (const g of all) v = (v << 16n) | BigInt(g);
  return v;
}

/**
 * Parses an IP literal. Accepts bracketed IPv6 ("[::1]", as found in URL
 * hosts) and drops an IPv6 zone id ("fe80::1%eth0"): the zone only picks
 * the interface, the address is what gets judged.
 */
function parseIp(raw: string): Address | null {
  let s = raw;
  const bracketed = s.startsWith('[') && s.endsWith(']');
  if (bracketed) s = s.slice(1, -1);
  if (!bracketed && isIPv4(s)) return { family: 4, value: parseV4(s) };
  const zone = s.indexOf('%');
  if (zone !== -1) s = s.slice(0, zone);
  if (isIPv6(s)) return { family: 6, value: parseV6(s) };
  return null;
}

function parseCidr(raw: string): Cidr {
  const slash = raw.lastIndexOf('/');
  const addrPart = slash === -1 ? raw : raw.slice(0, slash);
  const addr = parseIp(addrPart);
  if (!addr) throw new Error(`invalid CIDR ${JSON.stringify(raw)}: bad address`);
  const width = WIDTH[addr.family];
  const prefixPart = slash === -1 ? String(width) : raw.slice(slash + 1);
  const prefix = Number(prefixPart);
  if (!/^\d{1,3}$/.test(prefixPart) || prefix > width) {
    throw new Error(`invalid CIDR ${JSON.stringify(raw)}: bad prefix length`);
  }
  const shift = BigInt(width - prefix);
  return { family: addr.family, base: (addr.value >> shift) << shift, prefix };
}

function contains(cidr: Cidr, addr: Address): boolean {
  if (cidr.family !== addr.family) return false;
  const shift = BigInt(WIDTH[cidr.family] - cidr.prefix);
  return addr.value >> shift === cidr.base >> shift;
}

function rules(table: ReadonlyArray<readonly [cidr: string, reason: string, privateClass?: boolean]>): Rule[] {
  return table.map(([cidr, reason, privateClass = false]) => ({ ...parseCidr(cidr), reason, privateClass }));
}

// ---------------------------------------------------------------------------
// Rules. First match wins, so the specific entries (metadata) come first.

const V4_RULES = rules([
  // Cloud instance-metadata endpoints: never allowed by allowPrivate, since
  // credentials live there even on a developer's cloud VM.
  ['169.254.169.254/32', 'metadata'], // AWS, GCP, Azure, OpenStack, Oracle
  ['169.254.170.2/32', 'metadata'], // AWS ECS task metadata
  ['169.254.170.23/32', 'metadata'], // AWS EKS pod identity
  ['100.100.100.200/32', 'metadata'], // Alibaba Cloud
  ['192.0.0.192/32', 'metadata'], // Oracle Cloud (legacy)
  ['0.0.0.0/8', 'unspecified'], // "this network"; 0.0.0.0 reaches localhost on Linux
  ['10.0.0.0/8', 'private', true],
  ['100.64.0.0/10', 'cgnat', true],
  ['127.0.0.0/8', 'loopback', true],
  ['169.254.0.0/16', 'link-local', true],
  ['172.16.0.0/12', 'private', true],
  ['192.0.0.0/24', 'reserved'], // IETF protocol assignments
  ['192.0.2.0/24', 'documentation'],
  ['192.88.99.0/24', 'reserved'], // deprecated 6to4 relay anycast
  ['192.168.0.0/16', 'private', true],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['255.255.255.255/32', 'broadcast'],
  ['240.0.0.0/4', 'reserved'],
]);

const V6_RULES = rules([
  ['fd00:ec2::254/128', 'metadata'], // AWS IMDS over IPv6
  ['fc00::/7', 'private', true], // unique local
  ['fe80::/10', 'link-local', true],
  ['fec0::/10', 'site-local', true], // deprecated, still routed on some LANs
  ['ff00::/8', 'multicast'],
  ['100::/64', 'discard'],
  ['2001:db8::/32', 'documentation'],
  ['3fff::/20', 'documentation'],
  ['5f00::/16', 'reserved'], // SRv6 SIDs
  ['2001::/23', 'reserved'], // IETF protocol assignments (benchmarking, ORCHID...)
]);

// Prefixes whose low bits carry an IPv4 address, handled before V6_RULES.
const MAPPED = parseCidr('::ffff:0:0/96');
const COMPATIBLE = parseCidr('::/96');
const NAT64_WKP = parseCidr('64:ff9b::/96');
const NAT64_LOCAL = parseCidr('64:ff9b:1::/48');
const SIX_TO_FOUR = parseCidr('2002::/16');
const TEREDO = parseCidr('2001::/32');
// Only 2000::/3 is allocated as global unicast; anything else not matched above is reserved.
const GLOBAL_UNICAST = parseCidr('2000::/3');

const LOW32 = 0xffff_ffffn;

function classifyV4(value: bigint): Verdict | null {
  const addr: Address = { family: 4, value };
  for (const rule of V4_RULES) if (contains(rule, addr)) return rule;
  return null;
}

/** Verdict for an IPv4 address embedded in IPv6, tagged with how it was embedded. */
function embedded(tag: string, v4: bigint): Verdict | null {
  const inner = classifyV4(v4);
  return inner && { reason: `${tag}:${inner.reason}`, privateClass: inner.privateClass };
}

function classifyV6(addr: Address): Verdict | null {
  const { value } = addr;
  if (value === 0n) return { reason: 'unspecified', privateClass: false };
  if (value === 1n) return { reason: 'loopback', privateClass: true };
  if (contains(MAPPED, addr)) return embedded('ipv4-mapped', value & LOW32);
  if (contains(COMPATIBLE, addr)) {
    // Deprecated (RFC 4291) with no legitimate use: blocked even when the
    // embedded address is public, with the inner reason when there is one.
    return embedded('ipv4-compatible', value & LOW32) ?? { reason: 'ipv4-compatible', privateClass: false };
  }
  if (contains(NAT64_WKP, addr)) return embedded('nat64', value & LOW32);
  if (contains(NAT64_LOCAL, addr)) {
    // RFC 8215 local-use prefix: the translator may embed the IPv4 address
    // at bit 48, 56, 64 or 96 (RFC 6052). Only the /96 layout (bits 48-95
    // zero) is decoded; the other layouts cannot be told apart from it, so
    // they are refused rather than guessed.
    const middle = (value >> 32n) & ((1n << 48n) - 1n);
    if (middle !== 0n) return { reason: 'nat64-local', privateClass: false };
    return embedded('nat64', value & LOW32);
  }
  if (contains(SIX_TO_FOUR, addr)) return embedded('6to4', (value >> 80n) & LOW32);
  // Teredo relays tunnel to an obfuscated client IPv4 we cannot meaningfully
  // vet (the relay decides); no webhook receiver needs it.
  if (contains(TEREDO, addr)) return { reason: 'teredo', privateClass: false };
  for (const rule of V6_RULES) if (contains(rule, addr)) return rule;
  if (!contains(GLOBAL_UNICAST, addr)) return { reason: 'reserved', privateClass: false };
  return null;
}

// ---------------------------------------------------------------------------

export class AddressPolicy {
  readonly allowPrivate: boolean;
  private readonly allowed: Cidr[];

  /** Throws on an invalid CIDR in `allowSubnets`: a config error should stop startup. */
  constructor(opts: AddressPolicyOptions) {
    this.allowPrivate = opts.allowPrivate;
    this.allowed = opts.allowSubnets.map(parseCidr);
  }

  /**
   * Returns null when `ip` may be contacted, otherwise a short reason
   * ("loopback", "private", "metadata", "ipv4-mapped:loopback", "nat64:private",
   * "invalid" for something that is not an IP literal, ...).
   */
  check(ip: string): string | null {
    const addr = parseIp(ip);
    if (!addr) return 'invalid';
    const verdict = addr.family === 4 ? classifyV4(addr.value) : classifyV6(addr);
    if (!verdict) return null;
    if (this.isAllowListed(addr)) return null;
    if (this.allowPrivate && verdict.privateClass) return null;
    return verdict.reason;
  }

  private isAllowListed(addr: Address): boolean {
    // An IPv4-mapped address is the very same IPv4 endpoint (the kernel
    // connects to it over IPv4), so an IPv4 allow entry covers it too.
    const alt: Address | null =
      addr.family === 6 && contains(MAPPED, addr) ? { family: 4, value: addr.value & LOW32 } : null;
    return this.allowed.some((c) => contains(c, addr) || (alt !== null && contains(c, alt)));
  }
}

export type CheckUrlResult = { ok: true; url: URL } | { ok: false; reason: string };

/**
 * Validates an endpoint URL when it is registered. Hostnames are not
 * resolved here: DNS can change between now and delivery, so they are
 * checked at connect time (safe-lookup.ts). This only rejects what is
 * already knowable from the URL.
 */
export function checkUrl(raw: string, opts: { allowHttp: boolean; policy: AddressPolicy }): CheckUrlResult {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'invalid URL' };
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && opts.allowHttp)) {
    return { ok: false, reason: opts.allowHttp ? 'URL must use http or https' : 'URL must use https' };
  }
  // Credentials would be sent to the receiver on every delivery and are
  // the classic "user@evil.com@127.0.0.1" confusion vector.
  if (url.username !== '' || url.password !== '') {
    return { ok: false, reason: 'URL must not contain credentials' };
  }
  // WHATWG parsing has already normalised numeric IPv4 forms (2130706433,
  // 0x7f000001, 0177.0.0.1, 127.1) to dotted decimal and lower-cased names.
  const host = url.hostname;
  if (host === '') return { ok: false, reason: 'URL must have a host' };
  if (host.startsWith('[') || isIPv4(host)) {
    const reason = opts.policy.check(host);
    if (reason !== null) return { ok: false, reason: `host is a blocked address (${reason})` };
    return { ok: true, url };
  }
  // RFC 6761: *.localhost resolves to loopback without asking DNS.
  const name = host.replace(/\.+$/, '');
  if (!opts.policy.allowPrivate && (name === 'localhost' || name.endsWith('.localhost'))) {
    return { ok: false, reason: 'host is a blocked address (localhost)' };
  }
  return { ok: true, url };
}
