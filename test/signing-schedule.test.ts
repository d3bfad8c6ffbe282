import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY, maxAttempts, nextDelayMs, parseRetryAfter, retryDelayMs } from '../src/delivery/schedule.js';
import { signStandard, signatureHeaders, standardKey } from '../src/delivery/signer.js';
import { newId } from '../src/ids.js';
import { secretProblem } from '../src/security/secrets.js';

describe('signer', () => {
  it('reproduces the Standard Webhooks test vectors', () => {
    expect(signStandard(standardKey('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'), 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')).toBe(
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    );
    expect(
      signStandard(
        standardKey('whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD'),
        'msg_27UH4WbU6Z5A5EzD8u03UvzRbpk',
        1649367553,
        '{"email":"test@example.com","username":"test_user"}',
      ),
    ).toBe('v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=');
  });

  it('signs once per live secret, space-separated', () => {
    const h = signatureHeaders({ scheme: 'standard' }, ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD'], 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    expect(h['webhook-signature']!.split(' ')[0]).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
    expect(h['webhook-signature']!.split(' ')).toHaveLength(2);
  });
});

describe('retry schedule', () => {
  const never = () => 0;
  it('follows an explicit schedule and then stops', () => {
    const p = { schedule: [30, 60, 300], jitter: 0 };
    expect(maxAttempts(p)).toBe(4);
    expect([1, 2, 3, 4].map((n) => retryDelayMs(p, n, never))).toEqual([30_000, 60_000, 300_000, null]);
  });

  it('grows exponentially up to a ceiling and a retry count', () => {
    const p = { backoff: 'exponential' as const, initialSeconds: 1, maxSeconds: 5, maxRetries: 20, jitter: 0 };
    expect(maxAttempts(p)).toBe(21);
    expect([1, 2, 3, 4, 20, 21].map((n) => retryDelayMs(p, n, never))).toEqual([1000, 2000, 4000, 5000, 5000, null]);
  });

  it('only ever adds jitter', () => {
    const p = { schedule: [10], jitter: 0.2 };
    expect(retryDelayMs(p, 1, () => 0)).toBe(10_000);
    expect(retryDelayMs(p, 1, () => 0.999)).toBeLessThanOrEqual(12_000);
    expect(DEFAULT_RETRY).toMatchObject({ schedule: [5, 300, 1800, 7200, 18000, 36000, 36000] });
  });

  it('lets Retry-After push a retry out, never in, and never past the cap or the schedule', () => {
    const p = { schedule: [5, 5], jitter: 0 };
    expect(nextDelayMs(p, 1, 60_000, 3_600_000, never)).toBe(60_000);
    expect(nextDelayMs(p, 1, 1_000, 3_600_000, never)).toBe(5_000);
    expect(nextDelayMs(p, 1, 10 ** 9, 120_000, never)).toBe(120_000);
    expect(nextDelayMs(p, 3, 60_000, 3_600_000, never)).toBeNull();
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });
});

describe('ids and secrets', () => {
  it('makes sortable, unguessable ids', () => {
    const a = newId('evt');
    const b = newId('evt');
    expect(a).toMatch(/^evt_[0-9a-z]{26}$/);
    expect(a).not.toBe(b);
  });

  it('accepts strong secrets and explains weak ones', () => {
    expect(secretProblem('whsec_' + Buffer.alloc(24).toString('base64'), 'standard')).toBeNull();
    expect(secretProblem('whsec_' + Buffer.alloc(16).toString('base64'), 'standard')).toMatch(/24 bytes/);
    expect(secretProblem('a'.repeat(31), 'hmac-sha256')).toMatch(/32 characters/);
    expect(secretProblem('a'.repeat(32) + '!', 'hmac-sha256')).toBeNull();
    expect(secretProblem('a'.repeat(32) + '!', 'standard')).toMatch(/base64/);
  });
});
