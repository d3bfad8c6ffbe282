import { describe, expect, it } from 'vitest';
import { WebhookVerificationError, signStandard, signStandardHeaders, verify } from '../src/index.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const TS = 1614265330;
const PAYLOAD = '{"test": 2432232314}';
const SIGNATURE = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
const at = (seconds: number) => ({ now: () => seconds });

function headers(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const all: Record<string, string | undefined> = {
    'webhook-id': ID,
    'webhook-timestamp': String(TS),
    'webhook-signature': SIGNATURE,
    ...overrides,
  };
  return Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
}

async function rejection(promise: Promise<unknown>): Promise<WebhookVerificationError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WebhookVerificationError);
  return error as WebhookVerificationError;
}

describe('Standard Webhooks vectors', () => {
  it('signs the reference vector', async () => {
    expect(await signStandard(SECRET, ID, TS, PAYLOAD)).toBe(SIGNATURE);
    expect(await signStandard(SECRET, ID, new Date(TS * 1000), new TextEncoder().encode(PAYLOAD))).toBe(SIGNATURE);
  });

  it('verifies the reference vector', async () => {
    const result = await verify(PAYLOAD, headers(), SECRET, at(TS));
    expect(result).toEqual({ id: ID, timestamp: TS, payload: { test: 2432232314 } });
  });

  it('accepts the secret without whsec_ and the body as bytes', async () => {
    const result = await verify(new TextEncoder().encode(PAYLOAD), headers(), SECRET.slice(6), at(TS));
    expect(result.id).toBe(ID);
  });

  it('verifies the Rust library vector', async () => {
    const secret = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';
    const id = 'msg_27UH4WbU6Z5A5EzD8u03UvzRbpk';
    const ts = 1649367553;
    const payload = '{"email":"test@example.com","username":"test_user"}';
    const signature = 'v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=';
    expect(await signStandard(secret, id, ts, payload)).toBe(signature);
    const result = await verify(
      payload,
      { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signature },
      secret,
      at(ts),
    );
    expect(result.payload).toEqual({ email: 'test@example.com', username: 'test_user' });
  });

  it.each([
    ['garbage', 'v1,dawfeoifkpqwoekfpqoekf'],
    ['truncated', SIGNATURE.slice(0, -5)],
    ['empty v1', 'v1,'],
    ['one character off', 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA='],
    ['wrong version', SIGNATURE.replace('v1,', 'v2,')],
    ['no version', SIGNATURE.slice(3)],
  ])('rejects a %s signature', async (_name, signature) => {
    const error = await rejection(verify(PAYLOAD, headers({ 'webhook-signature': signature }), SECRET, at(TS)));
    expect(error.code).toBe('no_matching_signature');
    expect(error.header).toBe('webhook-signature');
    expect(error.message).not.toContain('g0hM9SsE');
  });

  it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])('rejects a request without %s', async (name) => {
    const error = await rejection(verify(PAYLOAD, headers({ [name]: undefined }), SECRET, at(TS)));
    expect(error.code).toBe('missing_header');
    expect(error.message).toContain(name);
    const blank = await rejection(verify(PAYLOAD, headers({ [name]: '  ' }), SECRET, at(TS)));
    expect(blank.code).toBe('missing_header');
  });

  it.each(['hello', '', '1614265330.5', '-1614265330', '0x60379bf2'])('rejects webhook-timestamp %j', async (value) => {
    const error = await rejection(verify(PAYLOAD, headers({ 'webhook-timestamp': value }), SECRET, at(TS)));
    expect(error.code).toBe(value === '' ? 'missing_header' : 'invalid_timestamp');
    expect(error.message).toContain('webhook-timestamp');
  });

  it('rejects a tampered body, id or timestamp', async () => {
    expect((await rejection(verify('{"test": 2432232315}', headers(), SECRET, at(TS)))).code).toBe('no_matching_signature');
    expect((await rejection(verify(PAYLOAD, headers({ 'webhook-id': ID + 'x' }), SECRET, at(TS)))).code).toBe(
      'no_matching_signature',
    );
    const later = String(TS + 1);
    expect((await rejection(verify(PAYLOAD, headers({ 'webhook-timestamp': later }), SECRET, at(TS)))).code).toBe(
      'no_matching_signature',
    );
  });

  it('rejects a wrong secret', async () => {
    const error = await rejection(verify(PAYLOAD, headers(), 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD', at(TS)));
    expect(error.code).toBe('no_matching_signature');
  });

  it('verifies a signature among decoys (rotation)', async () => {
    const decoy = 'Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=';
    const header = `v1,${decoy} v2,${decoy} ${SIGNATURE} v1,${decoy}`;
    const result = await verify(PAYLOAD, headers({ 'webhook-signature': header }), SECRET, at(TS));
    expect(result.id).toBe(ID);
  });

  it('verifies with any of several secrets (receiver-side rotation)', async () => {
    const result = await verify(PAYLOAD, headers(), ['whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD', SECRET], at(TS));
    expect(result.id).toBe(ID);
  });

  it('verifies a multi-secret header from signStandardHeaders', async () => {
    const old = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';
    const h = await signStandardHeaders([SECRET, old], ID, TS, PAYLOAD);
    expect(h['webhook-signature'].split(' ')).toHaveLength(2);
    expect((await verify(PAYLOAD, h, old, at(TS))).id).toBe(ID);
    expect((await verify(PAYLOAD, h, SECRET, at(TS))).id).toBe(ID);
  });

  it('handles repeated signature headers as Node and web Headers present them', async () => {
    const decoy = 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=';
    const node = { ...headers(), 'webhook-signature': [decoy, SIGNATURE] };
    expect((await verify(PAYLOAD, node, SECRET, at(TS))).id).toBe(ID);
    const web = new Headers(headers({ 'webhook-signature': undefined }));
    web.append('webhook-signature', decoy);
    web.append('webhook-signature', SIGNATURE);
    expect((await verify(PAYLOAD, web, SECRET, at(TS))).id).toBe(ID);
  });

  it('looks headers up case-insensitively', async () => {
    const mixed = { 'Webhook-Id': ID, 'WEBHOOK-TIMESTAMP': String(TS), 'Webhook-Signature': SIGNATURE };
    expect((await verify(PAYLOAD, mixed, SECRET, at(TS))).id).toBe(ID);
    expect((await verify(PAYLOAD, new Headers(mixed), SECRET, at(TS))).id).toBe(ID);
  });

  it('accepts unpadded secrets', async () => {
    const vectors = [
      ['MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS', 'v1,LVOXivKoo4FWasi/IaHvzhE/u+7/cu2AME+zS/nXqzk='],
      ['MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr', 'v1,yK2tMbA6BHPrMEJ1lLv7UlJJbgFoqGenJkiajZ29evg='],
    ] as const;
    for (const [secret, signature] of vectors) {
      expect(await signStandard(secret, ID, TS, PAYLOAD)).toBe(signature);
      expect(await signStandard(`whsec_${secret}`, ID, TS, PAYLOAD)).toBe(signature);
      const result = await verify(PAYLOAD, headers({ 'webhook-signature': signature }), secret, at(TS));
      expect(result.id).toBe(ID);
    }
  });
});

describe('timestamp tolerance', () => {
  it('accepts ±299 s and rejects ±301 s with the default 300 s', async () => {
    for (const offset of [-299, 0, 299]) {
      expect((await verify(PAYLOAD, headers(), SECRET, at(TS + offset))).timestamp).toBe(TS);
    }
    // The message is signed at TS; the receiver's clock is 301 s later: too old.
    expect((await rejection(verify(PAYLOAD, headers(), SECRET, at(TS + 301)))).code).toBe('timestamp_too_old');
    // Receiver's clock is 301 s earlier: the message is from the future.
    expect((await rejection(verify(PAYLOAD, headers(), SECRET, at(TS - 301)))).code).toBe('timestamp_too_new');
  });

  it('checks freshness against the real clock by default', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const [offset, outcome] of [
      [0, 'ok'],
      [-299, 'ok'],
      [299, 'ok'],
      [-301, 'timestamp_too_old'],
      [301, 'timestamp_too_new'],
    ] as const) {
      const h = await signStandardHeaders(SECRET, ID, now + offset, PAYLOAD);
      if (outcome === 'ok') expect((await verify(PAYLOAD, h, SECRET)).timestamp).toBe(now + offset);
      else expect((await rejection(verify(PAYLOAD, h, SECRET))).code).toBe(outcome);
    }
  });

  it('honours toleranceSeconds', async () => {
    expect((await verify(PAYLOAD, headers(), SECRET, { now: () => TS + 1000, toleranceSeconds: 1000 })).id).toBe(ID);
    const error = await rejection(verify(PAYLOAD, headers(), SECRET, { now: () => TS + 11, toleranceSeconds: 10 }));
    expect(error.code).toBe('timestamp_too_old');
    expect(error.message).toContain('webhook-timestamp');
  });
});

describe('body and programmer errors', () => {
  it('rejects a correctly signed body that is not JSON or UTF-8', async () => {
    for (const body of ['not json', '', new Uint8Array([0xff, 0xfe, 0x7b, 0x7d])]) {
      const h = await signStandardHeaders(SECRET, ID, TS, body);
      expect((await rejection(verify(body, h, SECRET, at(TS)))).code).toBe('invalid_body');
    }
  });

  it('signs and verifies non-ASCII bodies byte for byte', async () => {
    const body = '{"name":"Zoë ☃ 🎉"}';
    const h = await signStandardHeaders(SECRET, ID, TS, body);
    expect((await verify(new TextEncoder().encode(body), h, SECRET, at(TS))).payload).toEqual({ name: 'Zoë ☃ 🎉' });
  });

  it('throws TypeError for programmer mistakes', async () => {
    await expect(verify(PAYLOAD, headers(), '', at(TS))).rejects.toBeInstanceOf(TypeError);
    await expect(verify(PAYLOAD, headers(), [], at(TS))).rejects.toBeInstanceOf(TypeError);
    await expect(verify(PAYLOAD, headers(), 'whsec_', at(TS))).rejects.toBeInstanceOf(TypeError);
    await expect(verify(PAYLOAD, headers(), 'whsec_not base64!', at(TS))).rejects.toBeInstanceOf(TypeError);
    await expect(verify(PAYLOAD, headers(), SECRET, { toleranceSeconds: -1 })).rejects.toBeInstanceOf(TypeError);
    await expect(verify(PAYLOAD, headers(), SECRET, { scheme: 'nope' as 'standard' })).rejects.toBeInstanceOf(TypeError);
    await expect(verify(PAYLOAD, headers(), SECRET, { scheme: 'standard', header: 'x-sig' })).rejects.toBeInstanceOf(TypeError);
    await expect(verify(PAYLOAD, headers(), SECRET, { now: () => Date.now() })).rejects.toThrow(/seconds/);
    await expect(verify({ test: 1 } as unknown as string, headers(), SECRET, at(TS))).rejects.toThrow(/already parsed/);
  });
});
