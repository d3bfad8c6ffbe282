import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WebhookVerificationError, signHmac, signStandard, verify } from '../src/index.js';

/*
 * Property tests: whatever a sender (or an attacker) puts in the body and
 * the headers, verify() either returns the parsed payload of a correctly
 * signed body or rejects with a WebhookVerificationError, never anything
 * else; and a signature made over one body never verifies another.
 */
const SECRET = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
const HMAC_SECRET = 'a-platform-secret-of-enough-length-0123456789';
const now = () => 1_800_000_000;

const jsonBody = fc.jsonValue().map((v) => JSON.stringify(v));
const anyBytes = fc.uint8Array({ maxLength: 512 });
const headerValue = fc.oneof(fc.string({ maxLength: 200 }), fc.constantFrom('', 'v1,', 'v1,AAAA', ' ', '\u0000', 'v2,abc v1,'));

async function outcome(p: Promise<unknown>): Promise<'ok' | 'rejected'> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof WebhookVerificationError) return 'rejected';
    throw err;
  }
}

describe('verify(): properties', () => {
  it('accepts every correctly signed JSON body (both schemes) and returns its payload', async () => {
    await fc.assert(
      fc.asyncProperty(jsonBody, fc.stringMatching(/^[A-Za-z0-9_]{1,40}$/), async (body, id) => {
        const ts = now();
        const std = await verify(body, { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': await signStandard(SECRET, id, ts, body) }, SECRET, { now });
        expect(std.payload).toEqual(JSON.parse(body));
        const hmac = await verify(body, { 'x-sig': await signHmac(HMAC_SECRET, body, 'hex') }, HMAC_SECRET, { scheme: 'hmac-sha256', header: 'X-Sig' });
        expect(hmac.payload).toEqual(JSON.parse(body));
      }),
      { numRuns: 150 },
    );
  });

  it('never accepts a body other than the one signed', async () => {
    await fc.assert(
      fc.asyncProperty(jsonBody, jsonBody, async (signed, sent) => {
        fc.pre(signed !== sent);
        const ts = now();
        const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(ts), 'webhook-signature': await signStandard(SECRET, 'msg_1', ts, signed) };
        expect(await outcome(verify(sent, headers, SECRET, { now }))).toBe('rejected');
        const h = { signature: await signHmac(HMAC_SECRET, signed, 'base64') };
        expect(await outcome(verify(sent, h, HMAC_SECRET, { scheme: 'hmac-sha256', header: 'Signature', encoding: 'base64' }))).toBe('rejected');
      }),
      { numRuns: 150 },
    );
  });

  it('answers arbitrary bytes and headers with a WebhookVerificationError, never another error', async () => {
    await fc.assert(
      fc.asyncProperty(anyBytes, headerValue, headerValue, headerValue, async (body, id, ts, sig) => {
        const r = await outcome(verify(body, { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sig }, SECRET, { now }));
        expect(r).toBe('rejected');
        const r2 = await outcome(verify(body, { 'x-sig': sig }, HMAC_SECRET, { scheme: 'hmac-sha256', header: 'X-Sig' }));
        expect(r2).toBe('rejected');
      }),
      { numRuns: 300 },
    );
  });
});
