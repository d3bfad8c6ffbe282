/**
 * Connect-level SSRF tests. These only ever dial loopback: every test
 * server listens on 127.0.0.1, and fake resolvers hand public addresses
 * only to lookups that are never followed by a connection.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LookupAddress } from 'node:dns';
import { request, type Agent } from 'undici';
import { AddressPolicy } from '../src/security/address-policy.js';
import {
  BLOCKED_ADDRESS_CODE,
  createSafeDispatcher,
  createSafeLookup,
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
