import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { ADMIN_TOKEN, SECRET_KEY, startHerald, type TestHerald } from './helpers/herald.js';
import { runHerald } from './helpers/process.js';
import { Receiver } from './helpers/receiver.js';

const NEW_KEY = Buffer.alloc(32, 0x33).toString('base64');

let db: TestDatabase;
let receiver: Receiver;

beforeAll(async () => {
  db = await createTestDatabase();
  receiver = await new Receiver().listen();
});
afterAll(async () => {
  await receiver?.close();
  await db?.drop();
});

/** Every row of every table as text: what a database dump would show. */
async function dumpAll(h: TestHerald): Promise<string> {
  const tables = await h.running.db.query<{ t: string }>(`select tablename as t from pg_tables where schemaname = 'public'`);
  let out = '';
  for (const { t } of tables.rows) {
    const rows = await h.running.db.query<{ r: string }>(`select x::text as r from ${t} x`);
    out += rows.rows.map((r) => r.r).join('\n');
  }
  return out;
}

const env = (keys: string) => ({
  HERALD_ADMIN_TOKEN: ADMIN_TOKEN,
  HERALD_SECRET_KEYS: keys,
  ...(db.url ? { DATABASE_URL: db.url } : { HERALD_DATA_DIR: db.dataDir! }),
});

describe('endpoint secrets at rest', () => {
  it('stores no secret in clear, delivers with it, and survives a key rotation', async () => {
    let h = await startHerald({}, undefined, db);
    const t = await h.api.tenant();
    const secrets: string[] = [];
    for (let i = 0; i < 10; i++) secrets.push((await h.api.endpoint(t, { url: receiver.url(`/enc-${i}`), eventTypes: ['only.first'] })).secret);
    const hmacSecret = 'plain-platform-secret-with-enough-length-1234';
    await h.api.endpoint(t, { url: receiver.url('/enc-hmac'), secret: hmacSecret, signature: { scheme: 'hmac-sha256', header: 'X-Sig' } });
    const rotated = await h.api.endpoint(t, { url: receiver.url('/enc-rot') });
    const fresh = (await h.api.post(`/v1/tenants/${t}/endpoints/${rotated.id}/secret/rotate`, { graceSeconds: 3600 })).body.secret as string;
    // a broker endpoint: its URL's credentials are sealed like secrets (never delivered to here)
    const brokerPassword = 'broker-password-7f3a';
    const broker = await h.api.endpoint(t, { destination: { type: 'nats', url: `nats://herald:${brokerPassword}@127.0.0.1:4222`, subject: 'a.b' }, eventTypes: ['never.sent'] });

    const dump = await dumpAll(h);
    for (const s of [...secrets, hmacSecret, rotated.secret, fresh]) {
      expect(dump).not.toContain(s);
      expect(dump).not.toContain(s.replace(/^whsec_/, ''));
    }
    expect(dump).not.toContain('whsec_');
    expect(dump).not.toContain(brokerPassword);
    expect(dump).toMatch(/hs1:[0-9a-f]{8}:/);
    if (db.url && existsSync('/usr/bin/pg_dump')) {
      const pgDump = execFileSync('pg_dump', ['--data-only', db.url], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      for (const s of [...secrets, hmacSecret, fresh]) expect(pgDump).not.toContain(s);
      expect(pgDump).not.toContain('whsec_');
      expect(pgDump).not.toContain(brokerPassword);
    }
    await h.stop();

    // a new key goes in front; the old one still decrypts
    h = await startHerald({ secretKeys: [NEW_KEY, SECRET_KEY] }, undefined, db);
    await h.api.publish(t, 'only.first', { n: 1 });
    await receiver.waitForCount('/enc-0', 1);
    const got = receiver.at('/enc-0')[0]!;
    expect(new Webhook(secrets[0]!).verify(got.body, got.headers as Record<string, string>)).toEqual({ n: 1 });
    await h.stop();

    // re-encrypt everything with the new key, then drop the old key
    const r = await runHerald(['rotate-secrets-key'], env(`${NEW_KEY},${SECRET_KEY}`));
    expect(r.code).toBe(0);
    expect(r.output).toMatch(/done: 13 endpoint\(s\) now use key [0-9a-f]{8}/);
    h = await startHerald({ secretKeys: [NEW_KEY] }, undefined, db);
    expect((await h.api.get(`/v1/tenants/${t}/endpoints/${rotated.id}/secret`)).body.secret).toBe(fresh);
    const after = await dumpAll(h);
    const ids = new Set([...after.matchAll(/hs1:([0-9a-f]{8}):/g)].map((m) => m[1]));
    expect(ids.size).toBe(1);
    // the broker URL opens with the new key alone (GET decrypts it to mask it)
    expect((await h.api.get(`/v1/tenants/${t}/endpoints/${broker.id}`)).body.destination.url).toBe('nats://herald:***@127.0.0.1:4222');
    await h.api.publish(t, 'only.first', { n: 2 });
    await receiver.waitForCount('/enc-0', 2);
    const second = receiver.at('/enc-0')[1]!;
    expect(new Webhook(secrets[0]!).verify(second.body, second.headers as Record<string, string>)).toEqual({ n: 2 });
    await h.stop();
  }, 120_000);

  it('refuses to start on PostgreSQL without a key', async () => {
    const r = await runHerald(['api'], { HERALD_ADMIN_TOKEN: ADMIN_TOKEN, DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test', PORT: '0' });
    expect(r.code).toBe(2);
    expect(r.output).toContain('HERALD_SECRET_KEYS');
  });
});
