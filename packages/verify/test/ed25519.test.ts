import { describe, expect, it } from 'vitest';
import { WebhookVerificationError, createVerifier, verify } from '../src/index.js';

// Svix's asymmetric vector (server/svix-server/src/worker.rs, test_asymmetric_key_signing); the public key derived from its key
const PUBLIC_KEY = 'whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=';
const OTHER_KEY = 'whpk_' + Buffer.alloc(32, 7).toString('base64');
const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const TS = 1614265330;
const PAYLOAD = '{"test": 2432232314}';
const SIGNATURE = 'v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==';
const at = { now: () => TS };
const headers = (signature = SIGNATURE, id = ID) => ({ 'webhook-id': id, 'webhook-timestamp': String(TS), 'webhook-signature': signature });

async function code(promise: Promise<unknown>): Promise<string> {
  const e = await promise.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(WebhookVerificationError);
  return (e as WebhookVerificationError).code;
}

describe('ed25519 (v1a)', () => {
  it('verifies the vector with the whpk_ key; the scheme follows from the key', async () => {
    await expect(verify(PAYLOAD, headers(), PUBLIC_KEY, at)).resolves.toEqual({ id: ID, timestamp: TS, payload: { test: 2432232314 } });
    await expect(verify(PAYLOAD, headers(), PUBLIC_KEY, { ...at, scheme: 'ed25519' })).resolves.toBeTruthy();
  });

  it('finds the v1a entry among v1 and decoy entries, and accepts any of several keys (rotation)', async () => {
    const decoys = `v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1a,${Buffer.alloc(64).toString('base64')} v1a,short ${SIGNATURE}`;
    await expect(verify(PAYLOAD, headers(decoys), [OTHER_KEY, PUBLIC_KEY], at)).resolves.toBeTruthy();
  });

  it('rejects a changed body, id or signature, another key, and a header with only v1 signatures', async () => {
    expect(await code(verify(PAYLOAD.replace('2', '3'), headers(), PUBLIC_KEY, at))).toBe('no_matching_signature');
    expect(await code(verify(PAYLOAD, headers(SIGNATURE, 'msg_other'), PUBLIC_KEY, at))).toBe('no_matching_signature');
    expect(await code(verify(PAYLOAD, headers(SIGNATURE.replace('hnO3', 'hnO4')), PUBLIC_KEY, at))).toBe('no_matching_signature');
    expect(await code(verify(PAYLOAD, headers(), OTHER_KEY, at))).toBe('no_matching_signature');
    const e = await verify(PAYLOAD, headers('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='), PUBLIC_KEY, at).catch((x: Error) => x);
    expect((e as Error).message).toMatch(/no v1a signature/);
  });

  it('checks the timestamp as the HMAC scheme does', async () => {
    expect(await code(verify(PAYLOAD, headers(), PUBLIC_KEY, { now: () => TS + 301 }))).toBe('timestamp_too_old');
  });

  it('throws TypeError for keys that are not 32-byte whpk_ keys, or a whpk_ key on the HMAC scheme', () => {
    expect(() => createVerifier('whpk_' + Buffer.alloc(31).toString('base64'))).toThrow(TypeError);
    expect(() => createVerifier('whpk_***')).toThrow(TypeError);
    expect(() => createVerifier(PUBLIC_KEY, { scheme: 'standard' })).toThrow(/ed25519/);
    expect(() => createVerifier('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', { scheme: 'ed25519' })).toThrow(TypeError);
  });
});
