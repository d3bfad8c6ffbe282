import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { runHerald } from './helpers/process.js';

describe('configuration', () => {
  it('uses defaults, overlaid by environment, overlaid by flags', () => {
    const c = loadConfig({ port: 9000 }, { PORT: '7000', HERALD_WORKER_CONCURRENCY: '12', HERALD_ALLOW_SUBNETS: '10.0.0.0/8, 192.168.1.0/24' });
    expect(c.port).toBe(9000);
    expect(c.workerConcurrency).toBe(12);
    expect(c.allowSubnets).toEqual(['10.0.0.0/8', '192.168.1.0/24']);
    expect(c.leaseSeconds).toBe(60);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('names every bad key with its environment variable', () => {
    let err: unknown;
    try {
      loadConfig({}, { PORT: 'eighty', HERALD_WORKER_CONCURRENCY: '0', DATABASE_URL: 'not a url' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain('port (PORT)');
    expect(msg).toContain('workerConcurrency (HERALD_WORKER_CONCURRENCY)');
    expect(msg).toContain('databaseUrl (DATABASE_URL)');
  });

  it('refuses a lease that is not comfortably longer than the HTTP timeout', () => {
    expect(() => loadConfig({}, { HERALD_MAX_TIMEOUT_MS: '30000', HERALD_LEASE_SECONDS: '31' })).toThrow(/leaseSeconds \(HERALD_LEASE_SECONDS\): must be at least 45 s/);
    expect(loadConfig({}, { HERALD_MAX_TIMEOUT_MS: '30000', HERALD_LEASE_SECONDS: '45' }).leaseSeconds).toBe(45);
  });

  it('makes the CLI exit with code 2 and a clear message on bad configuration', async () => {
    const r = await runHerald(['worker'], { HERALD_LEASE_SECONDS: '5', HERALD_MAX_TIMEOUT_MS: '30000' });
    expect(r.code).toBe(2);
    expect(r.output).toContain('leaseSeconds (HERALD_LEASE_SECONDS)');
  });

  it('requires an admin token when running on a PostgreSQL server', async () => {
    const r = await runHerald(['api'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test', PORT: '0' });
    expect(r.code).toBe(2);
    expect(r.output).toContain('HERALD_ADMIN_TOKEN');
  });
});
