import { describe, it, expect } from 'vitest';
import { AddressPolicy, checkUrl } from '../src/security/address-policy.js';

const strict = new AddressPolicy({ allowPrivate: false, allowSubnets: [] });

// [address, expected reason]
const BLOCKED: ReadonlyArray<readonly [string, string]> = [
  // IPv4 ranges
  ['0.0.0.0', 'unspecified'],
  ['0.1.2.3', 'unspecified'],
  ['10.0.0.1', 'private'],
  ['10.255.255.255', 'private'],
  ['100.64.0.1', 'cgnat'],
  ['100.127.255.254', 'cgnat'],
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['169.254.0.1', 'link-local'],
  ['169.254.169.254', 'metadata'],
  ['169.254.170.2', 'metadata'],
  ['100.100.100.200', 'metadata'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.0.0.8', 'reserved'],
  ['192.0.2.1', 'documentation'],
  ['192.88.99.1', 'reserved'],
  ['192.168.1.1', 'private'],
  ['198.18.0.1', 'benchmarking'],
  ['198.19.255.255', 'benchmarking'],
  ['198.51.100.7', 'documentation'],
  ['203.0.113.9', 'documentation'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['240.0.0.1', 'reserved'],
  ['255.255.255.254', 'reserved'],
  ['255.255.255.255', 'broadcast'],
  // IPv6 ranges
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['[::1]', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback'],
  ['fc00::1', 'private'],
  ['fd12:3456:789a::1', 'private'],
  ['fd00:ec2::254', 'metadata'],
  ['[fd00:ec2::254]', 'metadata'],
  ['fe80::1', 'link-local'],
  ['fe80::1%eth0', 'link-local'],
  ['febf:ffff::1', 'link-local'],
  ['fec0::1', 'site-local'],
  ['ff02::1', 'multicast'],
  ['ff05::1:3', 'multicast'],
  ['100::1', 'discard'],
  ['2001:db8::1', 'documentation'],
  ['3fff::1', 'documentation'],
  ['5f00::1', 'reserved'],
  ['2001:2::1', 'reserved'],
  ['4000::1', 'reserved'],
  ['::ffff:0:7f00:1', 'reserved'], // SIIT IPv4-translated
  // IPv4-mapped, dotted and hex
  ['::ffff:127.0.0.1', 'ipv4-mapped:loopback'],
  ['::ffff:7f00:1', 'ipv4-mapped:loopback'],
  ['[::ffff:7f00:1]', 'ipv4-mapped:loopback'],
  ['0:0:0:0:0:ffff:7f00:0001', 'ipv4-mapped:loopback'],
  ['::FFFF:10.0.0.1', 'ipv4-mapped:private'],
  ['::ffff:a9fe:a9fe', 'ipv4-mapped:metadata'],
  ['::ffff:0.0.0.0', 'ipv4-mapped:unspecified'],
  // IPv4-compatible (deprecated)
  ['::127.0.0.1', 'ipv4-compatible:loopback'],
  ['::7f00:1', 'ipv4-compatible:loopback'],
  ['::a00:1', 'ipv4-compatible:private'],
  ['::8.8.8.8', 'ipv4-compatible'],
  // NAT64 well-known and local-use prefixes
  ['64:ff9b::127.0.0.1', 'nat64:loopback'],
  ['64:ff9b::7f00:1', 'nat64:loopback'],
  ['64:ff9b::a00:1', 'nat64:private'],
  ['64:ff9b::a9fe:a9fe', 'nat64:metadata'],
  ['64:ff9b:1::7f00:1', 'nat64:loopback'],
  ['64:ff9b:1::10.0.0.1', 'nat64:private'],
  ['64:ff9b:1::a9fe:a9fe', 'nat64:metadata'],
  ['64:ff9b:1:7f00:0:100::', 'nat64-local'], // 127.0.0.1 in the RFC 6052 /48 layout
  // 6to4: IPv4 in bits 16-48
  ['2002:7f00:1::1', '6to4:loopback'],
  ['2002:a00:1::', '6to4:private'],
  ['2002:a9fe:a9fe::1', '6to4:metadata'],
  // Teredo: whole prefix, whatever it encodes
  ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'teredo'], // client 127.0.0.1
  ['2001:0:4136:e378:8000:63bf:f5ff:fffe', 'teredo'], // client 10.0.0.1
  ['2001:0:4136:e378:8000:63bf:5601:5601', 'teredo'], // client 169.254.169.254
  ['2001:0:7f00:1::', 'teredo'], // server 127.0.0.1
  // Not IP literals at all
  ['127.1', 'invalid'],
  ['0177.0.0.1', 'invalid'],
  ['[127.0.0.1]', 'invalid'],
  ['example.com', 'invalid'],
  ['', 'invalid'],
];

const ALLOWED: readonly string[] = [
  '1.1.1.1',
  '8.8.8.8',
  '9.255.255.255',
  '11.0.0.1',
  '100.63.255.254',
  '100.128.0.1',
  '126.255.255.255',
  '128.0.0.1',
  '169.253.255.255',
  '169.255.0.1',
  '172.15.255.255',
  '172.32.0.1',
  '192.167.255.255',
  '192.169.0.1',
  '198.17.255.255',
  '198.20.0.1',
  '223.255.255.255',
  '2606:4700:4700::1111',
  '[2606:4700:4700::1111]',
  '2a00:1450:4001:80b::200e',
  '::ffff:8.8.8.8',
  '::ffff:808:808',
  '64:ff9b::8.8.8.8',
  '64:ff9b:1::808:808',
  '2002:808:808::1',
];

describe('AddressPolicy (strict)', () => {
  it('has a table of at least 45 refused forms', () => {
    expect(BLOCKED.length).toBeGreaterThanOrEqual(45);
  });

  it.each(BLOCKED)('refuses %s (%s)', (ip, reason) => {
    expect(strict.check(ip)).toBe(reason);
  });

  it.each(ALLOWED)('allows %s', (ip) => {
    expect(strict.check(ip)).toBeNull();
  });
});

describe('AddressPolicy allowSubnets', () => {
  const policy = new AddressPolicy({ allowPrivate: false, allowSubnets: ['127.0.0.1/32', '10.1.0.0/16', 'fd00:1::/32'] });

  it('allows exactly the listed subnets', () => {
    expect(policy.check('127.0.0.1')).toBeNull();
    expect(policy.check('127.0.0.2')).toBe('loopback');
    expect(policy.check('10.1.200.3')).toBeNull();
    expect(policy.check('10.2.0.1')).toBe('private');
    expect(policy.check('fd00:1:2::3')).toBeNull();
    expect(policy.check('fd00:2::3')).toBe('private');
    expect(policy.check('::1')).toBe('loopback');
  });

  it('treats an IPv4-mapped address as the IPv4 address it is', () => {
    expect(policy.check('::ffff:127.0.0.1')).toBeNull();
    expect(policy.check('::ffff:127.0.0.2')).toBe('ipv4-mapped:loopback');
    // NAT64/6to4 reach a different host (behind a translator): not covered.
    expect(policy.check('64:ff9b::7f00:1')).toBe('nat64:loopback');
  });

  it('accepts ::1/128 and bare addresses', () => {
    const p = new AddressPolicy({ allowPrivate: false, allowSubnets: ['::1/128', '192.168.0.10'] });
    expect(p.check('::1')).toBeNull();
    expect(p.check('[::1]')).toBeNull();
    expect(p.check('192.168.0.10')).toBeNull();
    expect(p.check('192.168.0.11')).toBe('private');
  });

  it('rejects malformed CIDRs at construction', () => {
    for (const bad of ['10.0.0.0/33', '::1/129', 'nope/8', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/8x']) {
      expect(() => new AddressPolicy({ allowPrivate: false, allowSubnets: [bad] }), bad).toThrow(/invalid CIDR/);
    }
  });
});

describe('AddressPolicy allowPrivate (dev mode)', () => {
  const dev = new AddressPolicy({ allowPrivate: true, allowSubnets: [] });

  it('allows loopback, private, link-local, CGNAT and ULA', () => {
    for (const ip of ['127.0.0.1', '::1', '10.0.0.1', '192.168.1.1', '172.16.0.1', '100.64.0.1', '169.254.1.1', 'fd12::1', 'fe80::1', '::ffff:127.0.0.1']) {
      expect(dev.check(ip), ip).toBeNull();
    }
  });

  it('still refuses metadata, unspecified, multicast and reserved', () => {
    expect(dev.check('169.254.169.254')).toBe('metadata');
    expect(dev.check('fd00:ec2::254')).toBe('metadata');
    expect(dev.check('::ffff:169.254.169.254')).toBe('ipv4-mapped:metadata');
    expect(dev.check('0.0.0.0')).toBe('unspecified');
    expect(dev.check('224.0.0.1')).toBe('multicast');
    expect(dev.check('240.0.0.1')).toBe('reserved');
    expect(dev.check('2001:0:4136:e378:8000:63bf:80ff:fffe')).toBe('teredo');
  });
});

describe('checkUrl', () => {
  const opts = { allowHttp: false, policy: strict };

  // [url, reason fragment]
  const REFUSED: ReadonlyArray<readonly [string, string]> = [
    ['https://127.0.0.1/', 'loopback'],
    ['https://2130706433/', 'loopback'],
    ['https://0x7f000001/', 'loopback'],
    ['https://0177.0.0.1/', 'loopback'],
    ['https://127.1/', 'loopback'],
    ['https://0x7f.1/', 'loopback'],
    ['https://017700000001/', 'loopback'],
    ['https://127.0.0.1./', 'loopback'],
    ['https://0/', 'unspecified'],
    ['https://[::1]:8443/', 'loopback'],
    ['https://[::ffff:127.0.0.1]/', 'ipv4-mapped:loopback'],
    ['https://[::ffff:7f00:1]/', 'ipv4-mapped:loopback'],
    ['https://[64:ff9b::a9fe:a9fe]/', 'nat64:metadata'],
    ['https://[2002:a00:1::]/', '6to4:private'],
    ['https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/', 'teredo'],
    ['https://169.254.169.254/latest/meta-data/', 'metadata'],
    ['https://0xa9fea9fe/', 'metadata'],
    ['https://[fd00:ec2::254]/latest/meta-data/', 'metadata'],
    ['https://10.0.0.1/', 'private'],
    ['https://localhost/', 'localhost'],
    ['https://LOCALHOST./', 'localhost'],
    ['https://api.localhost:8080/', 'localhost'],
    ['https://user@evil.com@127.0.0.1/', 'credentials'],
    ['https://user:pass@example.com/', 'credentials'],
    ['https://:secret@example.com/', 'credentials'],
    ['http://example.com/', 'https'],
    ['ftp://example.com/', 'https'],
    ['file:///etc/passwd', 'https'],
    ['gopher://127.0.0.1:6379/', 'https'],
    ['not a url', 'invalid URL'],
    ['https://', 'invalid URL'],
  ];

  it.each(REFUSED)('refuses %s', (raw, fragment) => {
    const res = checkUrl(raw, opts);
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.reason).toContain(fragment);
  });

  it('refuses http://0/ even when http is allowed', () => {
    const res = checkUrl('http://0/', { allowHttp: true, policy: strict });
    expect(res).toEqual({ ok: false, reason: 'host is a blocked address (unspecified)' });
  });

  it('allows public hosts and returns the normalised URL', () => {
    for (const raw of ['https://example.com/hook', 'https://1.1.1.1/', 'https://[2606:4700:4700::1111]:8443/x', 'https://localhost.example.com/']) {
      const res = checkUrl(raw, opts);
      expect(res.ok, raw).toBe(true);
    }
    const res = checkUrl('https://16843009/', opts);
    expect(res.ok && res.url.hostname).toBe('1.1.1.1');
  });

  it('does not resolve hostnames (checked at connect time)', () => {
    // Would resolve to 127.0.0.1 via a wildcard DNS service; not our concern here.
    expect(checkUrl('https://127.0.0.1.nip.io/', opts).ok).toBe(true);
  });

  it('allows http only with allowHttp', () => {
    expect(checkUrl('http://example.com/', { allowHttp: true, policy: strict }).ok).toBe(true);
    expect(checkUrl('ftp://example.com/', { allowHttp: true, policy: strict }).ok).toBe(false);
  });

  it('follows the policy for private hosts', () => {
    const dev = new AddressPolicy({ allowPrivate: true, allowSubnets: [] });
    expect(checkUrl('http://localhost:3000/', { allowHttp: true, policy: dev }).ok).toBe(true);
    expect(checkUrl('http://127.0.0.1:3000/', { allowHttp: true, policy: dev }).ok).toBe(true);
    expect(checkUrl('http://169.254.169.254/', { allowHttp: true, policy: dev }).ok).toBe(false);
    const sub = new AddressPolicy({ allowPrivate: false, allowSubnets: ['127.0.0.1/32'] });
    expect(checkUrl('https://127.0.0.1:9000/', { allowHttp: false, policy: sub }).ok).toBe(true);
    expect(checkUrl('https://127.0.0.2:9000/', { allowHttp: false, policy: sub }).ok).toBe(false);
  });
});
