import { createHmac } from 'node:crypto';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { describe, expect, it } from 'vitest';
import { WebhookVerificationError, signHmac, signStandardHeaders, verify } from '../src/index.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const OTHER_SECRET = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';
const ID = 'msg_2zFQWVZ7p3kLmd9XbQ4sT1';
const BODY = JSON.stringify({ type: 'invoice.paid', data: { id: 'inv_1', amount: 4200, note: 'café ✓' } });

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookVerificationError);
    return (error as WebhookVerificationError).code;
  }
  throw new Error('expected a rejection');
}

describe('cross-check with standardwebhooks and svix', () => {
  it('verifies what standardwebhooks signs', async () => {
    const ts = nowSeconds();
    const signature = new StandardWebhook(SECRET).sign(ID, new Date(ts * 1000), BODY);
    const headers = { 'webhook-id': ID, 'webhook-timestamp': String(ts), 'webhook-signature': signature };
    expect(await verify(BODY, headers, SECRET)).toEqual({ id: ID, timestamp: ts, payload: JSON.parse(BODY) });
    expect(await code(verify(BODY.replace('4200', '4201'), headers, SECRET))).toBe('no_matching_signature');
    expect(await code(verify(BODY, headers, OTHER_SECRET))).toBe('no_matching_signature');
  });

  it('signs what standardwebhooks and svix verify', async () => {
    const ts = nowSeconds();
    const headers = await signStandardHeaders(SECRET, ID, ts, BODY);
    expect(new StandardWebhook(SECRET).verify(BODY, headers)).toEqual(JSON.parse(BODY));
    expect(new SvixWebhook(SECRET).verify(BODY, headers)).toEqual(JSON.parse(BODY));
    expect(() => new StandardWebhook(OTHER_SECRET).verify(BODY, headers)).toThrow();
  });

  it('agrees with standardwebhooks on a rotation header', async () => {
    const ts = nowSeconds();
    const headers = await signStandardHeaders([OTHER_SECRET, SECRET], ID, ts, BODY);
    expect(new StandardWebhook(SECRET).verify(BODY, headers)).toEqual(JSON.parse(BODY));
    expect(new StandardWebhook(OTHER_SECRET).verify(BODY, headers)).toEqual(JSON.parse(BODY));
    expect((await verify(BODY, headers, SECRET)).id).toBe(ID);
  });

  it('matches standardwebhooks on many random secrets, ids and bodies', async () => {
    for (let i = 0; i < 50; i++) {
      const key = crypto.getRandomValues(new Uint8Array(16 + (i % 17)));
      const secret = `whsec_${Buffer.from(key).toString('base64')}`;
      const id = `msg_${i}_${Math.random().toString(36).slice(2)}`;
      const body = JSON.stringify({ i, s: String.fromCodePoint(0x20 + i * 97) });
      const ts = 1_700_000_000 + i;
      const ours = (await signStandardHeaders(secret, id, ts, body))['webhook-signature'];
      expect(ours).toBe(new StandardWebhook(secret).sign(id, new Date(ts * 1000), body));
    }
  });
});

describe('header-HMAC (hmac-sha256)', () => {
  const secret = 'adflow_s3cr3t';
  const hex = createHmac('sha256', secret).update(BODY).digest('hex');
  const b64 = createHmac('sha256', secret).update(BODY).digest('base64');
  const hexOptions = { scheme: 'hmac-sha256', header: 'X-AdFlow-Signature' } as const;
  const b64Options = { scheme: 'hmac-sha256', header: 'Signature', encoding: 'base64' } as const;

  it('signs like node:crypto', async () => {
    expect(await signHmac(secret, BODY)).toBe(hex);
    expect(await signHmac(secret, BODY, 'hex')).toBe(hex);
    expect(await signHmac(secret, new TextEncoder().encode(BODY), 'base64')).toBe(b64);
  });

  it('verifies hex (default) and base64 signatures from node:crypto', async () => {
    expect(await verify(BODY, { 'x-adflow-signature': hex }, secret, hexOptions)).toEqual({ payload: JSON.parse(BODY) });
    expect(await verify(BODY, new Headers({ 'X-AdFlow-Signature': hex.toUpperCase() }), secret, hexOptions)).toEqual({
      payload: JSON.parse(BODY),
    });
    expect(await verify(BODY, { Signature: b64 }, secret, b64Options)).toEqual({ payload: JSON.parse(BODY) });
    // scheme is implied by header
    expect((await verify(BODY, { 'x-adflow-signature': hex }, secret, { header: 'x-adflow-signature' })).payload).toEqual(
      JSON.parse(BODY),
    );
  });

  it('keys with the secret string as-is, whsec_ prefix included', async () => {
    const whsec = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const signature = createHmac('sha256', Buffer.from(whsec, 'utf8')).update(BODY).digest('hex');
    expect(await signHmac(whsec, BODY)).toBe(signature);
    expect((await verify(BODY, { 'x-adflow-signature': signature }, whsec, hexOptions)).payload).toEqual(JSON.parse(BODY));
  });

  it('accepts any of several comma- or space-separated signatures, or one in <header>-previous', async () => {
    const old = createHmac('sha256', 'old-secret').update(BODY).digest('hex');
    const wrong = createHmac('sha256', 'nope').update(BODY).digest('hex');
    for (const value of [`${old},${hex}`, `${hex}, ${old}`, `${wrong} ${hex}`]) {
      expect((await verify(BODY, { 'x-adflow-signature': value }, secret, hexOptions)).payload).toBeTruthy();
    }
    expect(
      (await verify(BODY, { 'x-adflow-signature': old, 'x-adflow-signature-previous': `${wrong} ${hex}` }, secret, hexOptions))
        .payload,
    ).toBeTruthy();
    expect((await verify(BODY, { 'x-adflow-signature': `${old},${hex}` }, ['x', 'old-secret'], hexOptions)).payload).toBeTruthy();
  });

  it('rejects a tampered body, a wrong secret, the wrong encoding and a missing header', async () => {
    expect(await code(verify(BODY + ' ', { 'x-adflow-signature': hex }, secret, hexOptions))).toBe('no_matching_signature');
    expect(await code(verify(BODY, { 'x-adflow-signature': hex }, 'other', hexOptions))).toBe('no_matching_signature');
    expect(await code(verify(BODY, { Signature: hex }, secret, b64Options))).toBe('no_matching_signature');
    expect(await code(verify(BODY, { 'x-adflow-signature': hex.slice(0, 32) }, secret, hexOptions))).toBe(
      'no_matching_signature',
    );
    try {
      await verify(BODY, { signature: hex }, secret, hexOptions);
      expect.unreachable();
    } catch (error) {
      expect((error as WebhookVerificationError).code).toBe('missing_header');
      expect((error as Error).message).toContain('x-adflow-signature');
    }
  });

  it('never puts the expected signature in the message', async () => {
    try {
      await verify(BODY, { 'x-adflow-signature': 'deadbeef' }, secret, hexOptions);
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain(hex);
      expect((error as Error).message).not.toContain(secret);
    }
  });

  it('throws TypeError without a header name or with a bad encoding', async () => {
    await expect(verify(BODY, {}, secret, { scheme: 'hmac-sha256' })).rejects.toBeInstanceOf(TypeError);
    await expect(verify(BODY, {}, secret, { ...hexOptions, encoding: 'hexx' as 'hex' })).rejects.toBeInstanceOf(TypeError);
    await expect(signHmac('', BODY)).rejects.toBeInstanceOf(TypeError);
  });
});
