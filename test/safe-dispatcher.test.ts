/**
 * Connect-level SSRF tests. These only ever dial loopback: every test
 * server listens on 127.0.0.1, and fake resolvers hand public addresses
 * only to lookups that are never followed by a connection.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import dns from 'node:dns';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LookupAddress } from 'node:dns';
import { request, type Agent, type buildConnector } from 'undici';
import { checkUrl } from '../src/security/address-policy.js';
import { startHerald, type TestHerald } from './helpers/herald.js';
import { AddressPolicy } from '../src/security/address-policy.js';
import {
  BLOCKED_ADDRESS_CODE,
  createSafeDispatcher,
  createSafeLookup,
  guardConnector,
  type Resolver,
} from '../src/security/safe-lookup.js';

const PUBLIC_V4 = '93.184.216.34';
const PUBLIC_V6 = '2606:2800:220:1:248:1893:25c8:1946';

const strict = new AddressPolicy({ allowPrivate: false, allowSubnets: [] });
const onlyLocalhost = new AddressPolicy({ allowPrivate: false, allowSubnets: ['127.0.0.1/32'] });

/** A resolver answering from a script, recording each query. */
function fakeResolver(answers: (call: number) => LookupAddress[]): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const fn: Resolver = (hostname, _options, callback) => {
    calls.push(hostname);
    const result = answers(calls.length);
    setImmediate(() => callback(null, result));
  };
  return Object.assign(fn, { calls });
}

interface LookupResult {
  err: NodeJS.ErrnoException | null;
  address: string | LookupAddress[];
  family: number | undefined;
}

function runLookup(lookup: ReturnType<typeof createSafeLookup>, host: string, all: boolean): Promise<LookupResult> {
  return new Promise((resolve) => {
    lookup(host, { all }, (err, address, family) => resolve({ err, address, family }));
  });
}

describe('createSafeLookup (no connections)', () => {
  const mixed = (): LookupAddress[] => [
    { address: '127.0.0.1', family: 4 },
    { address: PUBLIC_V4, family: 4 },
    { address: '::1', family: 6 },
    { address: '10.0.0.7', family: 4 },
    { address: PUBLIC_V6, family: 6 },
  ];

  it('keeps only allowed addresses when all: true', async () => {
    const res = await runLookup(createSafeLookup(strict, fakeResolver(mixed)), 'mixed.example', true);
    expect(res.err).toBeNull();
    expect(res.address).toEqual([
      { address: PUBLIC_V4, family: 4 },
      { address: PUBLIC_V6, family: 6 },
    ]);
  });

  it('returns the first allowed address when all: false, and still asks for all', async () => {
    const seen: boolean[] = [];
    const resolver: Resolver = (_host, options, cb) => {
      seen.push(options.all);
      cb(null, mixed());
    };
    const res = await runLookup(createSafeLookup(strict, resolver), 'mixed.example', false);
    expect(res.err).toBeNull();
    expect(res.address).toBe(PUBLIC_V4);
    expect(res.family).toBe(4);
    expect(seen).toEqual([true]);
  });

  it('fails with the blocked code when only blocked addresses remain', async () => {
    const resolver = fakeResolver(() => [
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
      { address: '169.254.169.254', family: 4 },
    ]);
    for (const all of [true, false]) {
      const res = await runLookup(createSafeLookup(strict, resolver), 'evil.example', all);
      expect(res.err?.code).toBe(BLOCKED_ADDRESS_CODE);
      expect(res.err?.message).toBe('host evil.example resolves only to blocked addresses (loopback, metadata)');
    }
  });

  it('passes resolver errors through', async () => {
    const resolver: Resolver = (host, _options, cb) => {
      const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${host}`);
      err.code = 'ENOTFOUND';
      cb(err, []);
    };
    const res = await runLookup(createSafeLookup(strict, resolver), 'nx.example', true);
    expect(res.err?.code).toBe('ENOTFOUND');
  });

  it('reports an empty answer as ENOTFOUND, not as blocked', async () => {
    const res = await runLookup(createSafeLookup(strict, fakeResolver(() => [])), 'empty.example', true);
    expect(res.err?.code).toBe('ENOTFOUND');
  });

  it('blocks localhost through the real resolver (hosts file, no network)', async () => {
    const res = await runLookup(createSafeLookup(strict), 'localhost', true);
    expect(res.err?.code).toBe(BLOCKED_ADDRESS_CODE);
  });
});

describe('createSafeDispatcher (loopback only)', () => {
  let server: http.Server;
  let port = 0;
  let hits = 0;
  const agents: Agent[] = [];

  const dispatcher = (...args: Parameters<typeof createSafeDispatcher>): Agent => {
    const agent = createSafeDispatcher(...args);
    agents.push(agent);
    return agent;
  };

  const get = async (url: string, agent: Agent): Promise<{ status: number; body: string }> => {
    const res = await request(url, { dispatcher: agent });
    return { status: res.statusCode, body: await res.body.text() };
  };

  const blocked = async (promise: Promise<unknown>): Promise<NodeJS.ErrnoException> => {
    try {
      await promise;
    } catch (err) {
      return err as NodeJS.ErrnoException;
    }
    throw new Error('request was not refused');
  };

  beforeAll(async () => {
    server = http.createServer((_req, res) => {
      hits += 1;
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.close()));
    hits = 0;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('refuses an IP-literal loopback host before connecting', async () => {
    const agent = dispatcher({ policy: strict });
    const err = await blocked(get(`http://127.0.0.1:${port}/`, agent));
    expect(err.code).toBe(BLOCKED_ADDRESS_CODE);
    expect(err.message).toBe('address 127.0.0.1 is blocked (loopback)');
    expect(hits).toBe(0);
  });

  it('refuses bracketed IPv6 and https IP literals too', async () => {
    const agent = dispatcher({ policy: strict });
    expect((await blocked(get(`http://[::1]:${port}/`, agent))).code).toBe(BLOCKED_ADDRESS_CODE);
    expect((await blocked(get(`http://[::ffff:127.0.0.1]:${port}/`, agent))).message).toContain('ipv4-mapped:loopback');
    expect((await blocked(get(`https://127.0.0.1:${port}/`, agent))).code).toBe(BLOCKED_ADDRESS_CODE);
    expect(hits).toBe(0);
  });

  it('refuses a hostname that resolves to loopback', async () => {
    const resolver = fakeResolver(() => [{ address: '127.0.0.1', family: 4 }]);
    const agent = dispatcher({ policy: strict, lookup: resolver });
    const err = await blocked(get(`http://hooks.example.test:${port}/`, agent));
    expect(err.code).toBe(BLOCKED_ADDRESS_CODE);
    expect(err.message).toBe('host hooks.example.test resolves only to blocked addresses (loopback)');
    expect(resolver.calls).toEqual(['hooks.example.test']);
    expect(hits).toBe(0);
  });

  it('refuses localhost with the real resolver', async () => {
    const agent = dispatcher({ policy: strict });
    const err = await blocked(get(`http://localhost:${port}/`, agent));
    expect(err.code).toBe(BLOCKED_ADDRESS_CODE);
    expect(hits).toBe(0);
  });

  it('re-checks at connect time (DNS rebinding)', async () => {
    // First answer public (as seen by a validation step), then loopback.
    const resolver = fakeResolver((call) =>
      call === 1 ? [{ address: PUBLIC_V4, family: 4 }] : [{ address: '127.0.0.1', family: 4 }],
    );
    const validation = await runLookup(createSafeLookup(strict, resolver), 'rebind.example.test', true);
    expect(validation.err).toBeNull();
    expect(validation.address).toEqual([{ address: PUBLIC_V4, family: 4 }]);

    // The dispatcher resolves again; only now is anything dialled.
    const agent = dispatcher({ policy: strict, lookup: resolver });
    const err = await blocked(get(`http://rebind.example.test:${port}/`, agent));
    expect(err.code).toBe(BLOCKED_ADDRESS_CODE);
    expect(resolver.calls).toHaveLength(2);
    expect(hits).toBe(0);
  });

  it('connects when allowSubnets lists the address', async () => {
    const agent = dispatcher({ policy: onlyLocalhost });
    expect(await get(`http://127.0.0.1:${port}/`, agent)).toEqual({ status: 200, body: 'ok' });
    expect(hits).toBe(1);
  });

  it('connects to an allow-listed address reached by hostname, dropping blocked siblings', async () => {
    const resolver = fakeResolver(() => [
      { address: '127.0.0.2', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ]);
    const agent = dispatcher({ policy: onlyLocalhost, lookup: resolver });
    expect(await get(`http://hooks.example.test:${port}/`, agent)).toEqual({ status: 200, body: 'ok' });
    expect(hits).toBe(1);
  });

  it('still refuses loopback addresses outside allowSubnets', async () => {
    const agent = dispatcher({ policy: onlyLocalhost });
    const err = await blocked(get(`http://127.0.0.2:${port}/`, agent));
    expect(err.code).toBe(BLOCKED_ADDRESS_CODE);
    expect(hits).toBe(0);
  });
});

/**
 * The refused address forms of issue 3, each as a literal URL (refused when
 * the endpoint is registered, and again by the connector, which sees the
 * host undici would dial) and, where a resolver can return it, behind a
 * hostname answered by a test resolver (refused by the lookup that
 * net.connect uses, so the address checked is the address dialled).
 * Nothing here opens a connection: the connector's inner dialler is a spy.
 */
// [URL host, what it is, address a resolver would return for it (null: URL syntax only)]
const REFUSED_FORMS: ReadonlyArray<readonly [string, string, string | null]> = [
  ['127.0.0.1', 'loopback', '127.0.0.1'],
  ['127.255.255.254', 'loopback /8', '127.255.255.254'],
  ['2130706433', '127.0.0.1 as decimal', null],
  ['0x7f000001', '127.0.0.1 as hex', null],
  ['0177.0.0.1', '127.0.0.1 as octal', null],
  ['127.1', '127.0.0.1 short form', null],
  ['0x7f.1', '127.0.0.1 hex short form', null],
  ['017700000001', '127.0.0.1 as one octal number', null],
  ['127.0.0.1.', '127.0.0.1 with a trailing dot', null],
  ['0.0.0.0', '0.0.0.0/8', '0.0.0.0'],
  ['0.1.2.3', '0.0.0.0/8', '0.1.2.3'],
  ['0', '0.0.0.0 as one number', null],
  ['10.0.0.1', 'RFC 1918 10/8', '10.0.0.1'],
  ['172.16.0.1', 'RFC 1918 172.16/12', '172.16.0.1'],
  ['172.31.255.255', 'RFC 1918 172.16/12', '172.31.255.255'],
  ['192.168.1.1', 'RFC 1918 192.168/16', '192.168.1.1'],
  ['100.64.0.1', 'CGNAT 100.64/10', '100.64.0.1'],
  ['100.127.255.254', 'CGNAT 100.64/10', '100.127.255.254'],
  ['169.254.0.1', 'link-local', '169.254.0.1'],
  ['169.254.169.254', 'metadata (AWS, GCP, Azure)', '169.254.169.254'],
  ['0xa9fea9fe', 'metadata as hex', null],
  ['169.254.170.2', 'metadata (ECS)', '169.254.170.2'],
  ['100.100.100.200', 'metadata (Alibaba)', '100.100.100.200'],
  ['[fd00:ec2::254]', 'metadata over IPv6 (AWS)', 'fd00:ec2::254'],
  ['[::1]', 'IPv6 loopback', '::1'],
  ['[::]', 'IPv6 unspecified', '::'],
  ['[fc00::1]', 'IPv6 ULA', 'fc00::1'],
  ['[fd12:3456:789a::1]', 'IPv6 ULA', 'fd12:3456:789a::1'],
  ['[fe80::1]', 'IPv6 link-local', 'fe80::1'],
  ['[fec0::1]', 'IPv6 site-local', 'fec0::1'],
  ['[::ffff:127.0.0.1]', 'IPv4-mapped loopback', '::ffff:127.0.0.1'],
  ['[::ffff:7f00:1]', 'IPv4-mapped loopback, hex', '::ffff:7f00:1'],
  ['[::ffff:10.0.0.1]', 'IPv4-mapped RFC 1918', '::ffff:10.0.0.1'],
  ['[::ffff:a9fe:a9fe]', 'IPv4-mapped metadata', '::ffff:a9fe:a9fe'],
  ['[::127.0.0.1]', 'IPv4-compatible loopback', '::127.0.0.1'],
  ['[64:ff9b::7f00:1]', 'NAT64 of loopback', '64:ff9b::7f00:1'],
  ['[64:ff9b::a00:1]', 'NAT64 of 10.0.0.1', '64:ff9b::a00:1'],
  ['[64:ff9b::a9fe:a9fe]', 'NAT64 of metadata', '64:ff9b::a9fe:a9fe'],
  ['[64:ff9b:1::a00:1]', 'NAT64 local-use of 10.0.0.1', '64:ff9b:1::a00:1'],
  ['[2002:7f00:1::1]', '6to4 of loopback', '2002:7f00:1::1'],
  ['[2002:a00:1::]', '6to4 of 10.0.0.1', '2002:a00:1::'],
  ['[2002:a9fe:a9fe::1]', '6to4 of metadata', '2002:a9fe:a9fe::1'],
  ['[2001:0:4136:e378:8000:63bf:80ff:fffe]', 'Teredo (client 127.0.0.1)', '2001:0:4136:e378:8000:63bf:80ff:fffe'],
  ['224.0.0.1', 'multicast', '224.0.0.1'],
  ['239.255.255.250', 'multicast (SSDP)', '239.255.255.250'],
  ['[ff02::1]', 'IPv6 multicast', 'ff02::1'],
  ['240.0.0.1', 'reserved 240/4', '240.0.0.1'],
  ['255.255.255.255', 'broadcast', '255.255.255.255'],
  ['192.0.0.8', 'IETF protocol assignments', '192.0.0.8'],
  ['198.18.0.1', 'benchmarking', '198.18.0.1'],
  ['192.0.2.1', 'documentation', '192.0.2.1'],
  ['[2001:db8::1]', 'IPv6 documentation', '2001:db8::1'],
  ['[100::1]', 'IPv6 discard', '100::1'],
];

describe('refused address forms: literal URL and behind a hostname', () => {
  it(`refuses all ${REFUSED_FORMS.length} forms at registration, at connect and through the resolver, without dialling`, async () => {
    expect(REFUSED_FORMS.length).toBeGreaterThanOrEqual(40);
    const dialled: string[] = [];
    const spy: buildConnector.connector = (options, callback) => {
      dialled.push(options.hostname);
      callback(new Error('test connector never dials'), null);
    };
    const guarded = guardConnector(strict, spy);
    const problems: string[] = [];
    let behindName = 0;
    for (const [host, what, resolved] of REFUSED_FORMS) {
      const raw = `https://${host}:8443/hook`;
      const reg = checkUrl(raw, { allowHttp: true, policy: strict });
      if (reg.ok) problems.push(`${host} (${what}): accepted at registration`);
      // undici dials the WHATWG-normalised hostname, without IPv6 brackets
      const hostname = new URL(raw).hostname.replace(/^\[(.*)\]$/, '$1');
      const err = await new Promise<Error | null>((resolve) =>
        guarded({ hostname, host: hostname, protocol: 'https:', port: '8443', servername: undefined, localAddress: null, httpSocket: undefined }, (...args) =>
          resolve(args[0]),
        ),
      );
      if ((err as NodeJS.ErrnoException | null)?.code !== BLOCKED_ADDRESS_CODE) problems.push(`${host} (${what}): connector let ${hostname} through`);
      if (resolved === null) continue;
      behindName++;
      const family = resolved.includes(':') ? 6 : 4;
      for (const all of [true, false]) {
        const res = await runLookup(createSafeLookup(strict, fakeResolver(() => [{ address: resolved, family }])), 'name.example.test', all);
        if (res.err?.code !== BLOCKED_ADDRESS_CODE) problems.push(`${resolved} (${what}) behind a hostname, all=${all}: ${res.err?.code ?? JSON.stringify(res.address)}`);
      }
    }
    console.log(
      `[ssrf] ${REFUSED_FORMS.length} refused address forms: ${REFUSED_FORMS.length} as literal URLs at registration and at connect, ` +
        `${behindName} behind a hostname (test resolver, all: true and false); ${problems.length} let through; ${dialled.length} dialled`,
    );
    expect(problems).toEqual([]);
    expect(dialled).toEqual([]);
  });
});

describe('through Herald (dev: false): a registered hostname that resolves to a blocked address at delivery time', () => {
  const realLookup = dns.lookup;
  // *.ssrf.test names answer from this table; every address in it is refused, so nothing is dialled.
  const ANSWERS: Record<string, string> = {
    'loopback.ssrf.test': '127.0.0.1',
    'metadata.ssrf.test': '169.254.169.254',
    'private.ssrf.test': '10.0.0.5',
    'mapped.ssrf.test': '::ffff:169.254.169.254',
  };
  let herald: TestHerald;

  beforeAll(async () => {
    // In place before Herald builds its dispatcher, which captures dns.lookup.
    (dns as { lookup: unknown }).lookup = ((host: string, opts: unknown, cb?: unknown) => {
      const address = ANSWERS[host];
      if (address === undefined) return (realLookup as (...a: unknown[]) => void)(host, opts, cb);
      const callback = (typeof opts === 'function' ? opts : cb) as (e: null, a: unknown, f?: number) => void;
      const family = address.includes(':') ? 6 : 4;
      const all = typeof opts === 'object' && (opts as { all?: boolean }).all;
      process.nextTick(() => (all ? callback(null, [{ address, family }]) : callback(null, address, family)));
    }) as typeof dns.lookup;
    herald = await startHerald({ dev: false, circuitBreakerFailures: 0 });
  }, 120_000);

  afterAll(async () => {
    await herald?.stop();
    (dns as { lookup: unknown }).lookup = realLookup;
  });

  it('accepts the URL (DNS may change), then records each attempt as blocked without connecting', async () => {
    const t = await herald.api.tenant('Ssrf');
    const ids: string[] = [];
    for (const host of Object.keys(ANSWERS)) {
      const ep = await herald.api.endpoint(t, { url: `https://${host}/hook`, retry: { schedule: [0.05], jitter: 0 }, eventTypes: [`ssrf.${ids.length}`] });
      const pub = await herald.api.publish(t, `ssrf.${ids.length}`, { host });
      const ds = await herald.api.get(`/v1/tenants/${t}/events/${pub.body.id}/deliveries`);
      expect(ds.body.data.map((d: { endpointId: string }) => d.endpointId)).toEqual([ep.id]);
      ids.push(ds.body.data[0].id);
    }
    const finals = await Promise.all(ids.map((id) => herald.api.waitDelivery(t, id, (d) => d.status === 'failed')));
    finals.forEach((d, i) => {
      const host = Object.keys(ANSWERS)[i]!;
      expect(d.attempts, host).toBe(2);
      expect(d.attemptLog.map((a: { error: { code: string } }) => a.error.code), host).toEqual(['blocked', 'blocked']);
      expect(d.attemptLog[0].error.message, host).toContain(`host ${host} resolves only to blocked addresses`);
      expect(d.attemptLog[0].response, host).toBeNull();
    });
    console.log(`[ssrf] through Herald: ${ids.length} hostnames resolving to blocked addresses accepted at registration, every attempt recorded \`blocked\`, 0 connections`);
  });
});
