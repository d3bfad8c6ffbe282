import { spawnSync } from 'node:child_process';
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verify as heraldVerify } from '../packages/verify/dist/index.js';
import { privateKeyOf, publicKeyOf, signEd25519, signingKeyProblem } from '../src/delivery/signing/ed25519.js';
import { Receiver, type Received } from './helpers/receiver.js';
import { startHerald, type TestHerald } from './helpers/herald.js';

/*
 * ed25519 signatures (Standard Webhooks `v1a`). Every delivery is checked
 * by implementations that share no code with Herald's signer: node:crypto
 * `verify` with the published `whpk_` key, the OpenSSL command line (a
 * separate ed25519 implementation, `pkeyutl -rawin`), and @herald/verify
 * (Web Crypto). The `standardwebhooks` and `svix` npm packages verify only
 * `v1` (HMAC): they have no ed25519 code to test against.
 */

let herald: TestHerald;
let receiver: Receiver;
const work = mkdtempSync(join(tmpdir(), 'herald-ed25519-'));

beforeAll(async () => {
  herald = await startHerald();
  receiver = await new Receiver().listen();
});
afterAll(async () => {
  await herald?.stop();
  await receiver?.close();
  rmSync(work, { recursive: true, force: true });
});

/** The v1a signatures of a received request's `webhook-signature` header. */
const v1a = (r: Received): string[] =>
  String(r.headers['webhook-signature'])
    .split(' ')
    .map((s) => {
      expect(s).toMatch(/^v1a,[A-Za-z0-9+/]{86}==$/);
      return s.slice(4);
    });

const signedContent = (r: Received) => Buffer.from(`${String(r.headers['webhook-id'])}.${String(r.headers['webhook-timestamp'])}.${r.body}`);

/** node:crypto's verdict, from the `whpk_` key alone. */
function nodeVerifies(publicKey: string, r: Received, signature: string): boolean {
  const x = Buffer.from(publicKey.replace(/^whpk_/, ''), 'base64').toString('base64url');
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
  return cryptoVerify(null, signedContent(r), key, Buffer.from(signature, 'base64'));
}

/** OpenSSL's verdict: the public key as an SPKI PEM file, the raw message and signature as files. */
let opensslRuns = 0;
function opensslVerifies(publicKey: string, r: Received, signature: string): boolean {
  const dir = join(work, String(opensslRuns++));
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(publicKey.slice(5), 'base64')]);
  writeFileSync(dir + '.pem', `-----BEGIN PUBLIC KEY-----\n${spki.toString('base64')}\n-----END PUBLIC KEY-----\n`);
  writeFileSync(dir + '.msg', signedContent(r));
  writeFileSync(dir + '.sig', Buffer.from(signature, 'base64'));
  const res = spawnSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', dir + '.pem', '-rawin', '-in', dir + '.msg', '-sigfile', dir + '.sig']);
  return res.status === 0;
}

const headersOf = (r: Received) => ({
  'webhook-id': String(r.headers['webhook-id']),
  'webhook-timestamp': String(r.headers['webhook-timestamp']),
  'webhook-signature': String(r.headers['webhook-signature']),
});

describe('signing', () => {
  // Svix's asymmetric vector (server/svix-server/src/worker.rs, test_asymmetric_key_signing): the key is seed ‖ public key
  const SVIX_KEY = 'whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg==';

  it("reproduces Svix's v1a vector byte for byte and derives its public key", () => {
    expect(signingKeyProblem(SVIX_KEY)).toBeNull();
    const sig = signEd25519(privateKeyOf(SVIX_KEY), 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    expect(sig).toBe('v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==');
    expect(publicKeyOf(SVIX_KEY)).toBe('whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=');
    // the 32-byte seed alone is the same key
    const seedOnly = 'whsk_' + Buffer.from(SVIX_KEY.slice(5), 'base64').subarray(0, 32).toString('base64');
    expect(publicKeyOf(seedOnly)).toBe(publicKeyOf(SVIX_KEY));
  });

  it('refuses a key whose public half is not its seed’s', () => {
    const bytes = Buffer.from(SVIX_KEY.slice(5), 'base64');
    bytes[40]! ^= 1;
    expect(signingKeyProblem('whsk_' + bytes.toString('base64'))).toMatch(/public key of its first 32/);
  });
});

describe('ed25519 endpoints', () => {
  it('deliver v1a signatures that node:crypto, OpenSSL and @herald/verify accept with the public key', async () => {
    const t = await herald.api.tenant();
    const created = await herald.api.post(`/v1/tenants/${t}/endpoints`, { url: receiver.url('/ed'), signature: { scheme: 'ed25519' } });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^whsk_[A-Za-z0-9+/]{86}==$/);
    const publicKey = created.body.publicKey as string;
    expect(publicKey).toMatch(/^whpk_[A-Za-z0-9+/]{43}=$/);
    expect(publicKey).toBe(publicKeyOf(created.body.secret));

    const secret = await herald.api.get(`/v1/tenants/${t}/endpoints/${created.body.id}/secret`);
    expect(secret.body).toEqual({ secret: created.body.secret, publicKey });

    await herald.api.publish(t, 'order.paid', { amount: 12345678901234567890, note: 'crème' });
    await receiver.waitForCount('/ed', 1);
    const r = receiver.at('/ed')[0]!;
    const [sig] = v1a(r);
    expect(nodeVerifies(publicKey, r, sig!)).toBe(true);
    expect(opensslVerifies(publicKey, r, sig!)).toBe(true);
    await expect(heraldVerify(r.body, headersOf(r), publicKey)).resolves.toMatchObject({ id: r.headers['webhook-id'] });
    // and a changed byte is caught by each
    const tampered = { ...r, body: r.body.replace('crème', 'crema') };
    expect(nodeVerifies(publicKey, tampered, sig!)).toBe(false);
    expect(opensslVerifies(publicKey, tampered, sig!)).toBe(false);
    await expect(heraldVerify(tampered.body, headersOf(r), publicKey)).rejects.toMatchObject({ code: 'no_matching_signature' });
  });

  it('accept a whsk_ key of the caller’s own (Svix’s format) and sign with it', async () => {
    const t = await herald.api.tenant();
    const key = 'whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg==';
    const ep = await herald.api.post(`/v1/tenants/${t}/endpoints`, { url: receiver.url('/own'), signature: { scheme: 'ed25519' }, secret: key });
    expect(ep.status).toBe(201);
    expect(ep.body.publicKey).toBe('whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=');
    await herald.api.publish(t, 'a.b', { n: 1 });
    await receiver.waitForCount('/own', 1);
    const r = receiver.at('/own')[0]!;
    expect(opensslVerifies(ep.body.publicKey, r, v1a(r)[0]!)).toBe(true);
  });

  it('rotate as HMAC secrets do: both keys sign during the grace period (two v1a entries), each verifies alone', async () => {
    const t = await herald.api.tenant();
    const ep = await herald.api.post(`/v1/tenants/${t}/endpoints`, { url: receiver.url('/rot'), signature: { scheme: 'ed25519' } });
    const oldKey = ep.body.publicKey as string;
    const rotated = await herald.api.post(`/v1/tenants/${t}/endpoints/${ep.body.id}/secret/rotate`, { graceSeconds: 3600 });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsk_/);
    const newKey = rotated.body.publicKey as string;
    expect(newKey).toBe(publicKeyOf(rotated.body.secret));
    expect(newKey).not.toBe(oldKey);
    expect((await herald.api.get(`/v1/tenants/${t}/endpoints/${ep.body.id}`)).body.publicKey).toBe(newKey);

    await herald.api.publish(t, 'a.b', { n: 1 });
    await receiver.waitForCount('/rot', 1);
    const during = receiver.at('/rot')[0]!;
    const [first, second] = v1a(during);
    expect(v1a(during)).toHaveLength(2);
    expect(nodeVerifies(newKey, during, first!)).toBe(true);
    expect(nodeVerifies(oldKey, during, second!)).toBe(true);
    expect(opensslVerifies(oldKey, during, second!)).toBe(true);
    await expect(heraldVerify(during.body, headersOf(during), oldKey)).resolves.toBeTruthy();
    await expect(heraldVerify(during.body, headersOf(during), newKey)).resolves.toBeTruthy();

    // a rotation without grace retires the current key at once
    const again = await herald.api.post(`/v1/tenants/${t}/endpoints/${ep.body.id}/secret/rotate`, { graceSeconds: 0 });
    await herald.api.publish(t, 'a.b', { n: 2 });
    await receiver.waitForCount('/rot', 2);
    const after = receiver.at('/rot')[1]!;
    expect(v1a(after)).toHaveLength(2); // the newest key and the first one, still in its grace period
    await expect(heraldVerify(after.body, headersOf(after), again.body.publicKey)).resolves.toBeTruthy();
    await expect(heraldVerify(after.body, headersOf(after), newKey)).rejects.toMatchObject({ code: 'no_matching_signature' });
  });

  it('show the public key to read-only tokens, which still may not read the private key', async () => {
    const t = await herald.api.tenant();
    const ep = await herald.api.post(`/v1/tenants/${t}/endpoints`, { url: receiver.url('/ro'), signature: { scheme: 'ed25519' } });
    const token = (await herald.api.post(`/v1/tenants/${t}/tokens`, { name: 'portal', role: 'read' })).body.token as string;
    const reader = herald.api.as(token);
    expect((await reader.get(`/v1/tenants/${t}/endpoints/${ep.body.id}`)).body.publicKey).toBe(ep.body.publicKey);
    expect((await reader.get(`/v1/tenants/${t}/endpoints`)).body.data[0].publicKey).toBe(ep.body.publicKey);
    expect((await reader.get(`/v1/tenants/${t}/endpoints/${ep.body.id}/secret`)).status).toBe(403);
  });

  it('HMAC endpoints have no public key', async () => {
    const t = await herald.api.tenant();
    const ep = await herald.api.post(`/v1/tenants/${t}/endpoints`, { url: receiver.url('/hmac') });
    expect(ep.body.publicKey).toBeNull();
    expect((await herald.api.get(`/v1/tenants/${t}/endpoints/${ep.body.id}/secret`)).body).toEqual({ secret: ep.body.secret, publicKey: null });
  });

  it('switching between ed25519 and HMAC replaces the secret with one of the new kind and ends grace periods', async () => {
    const t = await herald.api.tenant();
    const ep = await herald.api.post(`/v1/tenants/${t}/endpoints`, { url: receiver.url('/sw') });
    await herald.api.post(`/v1/tenants/${t}/endpoints/${ep.body.id}/secret/rotate`, { graceSeconds: 3600 });
    const toEd = await herald.api.patch(`/v1/tenants/${t}/endpoints/${ep.body.id}`, { signature: { scheme: 'ed25519' } });
    expect(toEd.status).toBe(200);
    const s = (await herald.api.get(`/v1/tenants/${t}/endpoints/${ep.body.id}/secret`)).body;
    expect(s.secret).toMatch(/^whsk_/);
    expect(toEd.body.publicKey).toBe(s.publicKey);
    await herald.api.publish(t, 'a.b', { n: 1 });
    await receiver.waitForCount('/sw', 1);
    const r = receiver.at('/sw')[0]!;
    expect(v1a(r)).toHaveLength(1);
    expect(nodeVerifies(s.publicKey, r, v1a(r)[0]!)).toBe(true);

    const back = await herald.api.patch(`/v1/tenants/${t}/endpoints/${ep.body.id}`, { signature: { scheme: 'standard' } });
    expect(back.body.publicKey).toBeNull();
    expect((await herald.api.get(`/v1/tenants/${t}/endpoints/${ep.body.id}/secret`)).body.secret).toMatch(/^whsec_/);
  });

  it('bad keys are a 400 naming the field', async () => {
    const t = await herald.api.tenant();
    const post = (body: Record<string, unknown>) => herald.api.post(`/v1/tenants/${t}/endpoints`, { url: receiver.url('/bad'), ...body });
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ signature: { scheme: 'ed25519' }, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }, 'secret', /needs a whsk_ signing key/],
      [{ signature: { scheme: 'ed25519' }, secret: 'whsk_not*base64' }, 'secret', /base64/],
      [{ signature: { scheme: 'ed25519' }, secret: 'whsk_' + Buffer.alloc(40).toString('base64') }, 'secret', /64 bytes/],
      [{ secret: 'whsk_' + Buffer.alloc(32, 1).toString('base64') }, 'secret', /only with the ed25519 scheme/],
      [{ signature: { scheme: 'hmac-sha256', header: 'X-Sig' }, secret: 'whsk_' + Buffer.alloc(32, 1).toString('base64') }, 'secret', /only with the ed25519 scheme/],
    ];
    for (const [body, field, message] of cases) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.details[0].field).toBe(field);
      expect(res.body.error.message).toMatch(message);
    }
    const unknownScheme = await post({ signature: { scheme: 'ed448' } });
    expect(unknownScheme.status).toBe(400);
    expect(JSON.stringify(unknownScheme.body)).toContain('signature');

    const ep = await post({ signature: { scheme: 'ed25519' } });
    const rot = await herald.api.post(`/v1/tenants/${t}/endpoints/${ep.body.id}/secret/rotate`, { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' });
    expect(rot.status).toBe(400);
    expect(rot.body.error.details[0].field).toBe('secret');
  });
});
