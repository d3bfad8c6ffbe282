import { describe, expect, it } from 'vitest';
import { newId } from '../src/ids.js';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const decodeTime = (id: string) => [...id.split('_')[1]!.slice(0, 10)].reduce((ms, c) => ms * 32 + ALPHABET.indexOf(c), 0);

describe('newId', () => {
  it('is the prefix, then 10 characters of milliseconds and 16 of randomness in lower-case Crockford base32', () => {
    const before = Date.now();
    const id = newId('dlv');
    expect(id).toMatch(/^dlv_[0-9a-hjkmnp-tv-z]{26}$/);
    expect(decodeTime(id)).toBeGreaterThanOrEqual(before);
    expect(decodeTime(id)).toBeLessThanOrEqual(Date.now());
  });

  it('never repeats, and sorts by creation time across milliseconds', async () => {
    const ids = Array.from({ length: 20_000 }, () => newId('evt'));
    expect(new Set(ids).size).toBe(ids.length);
    await new Promise((r) => setTimeout(r, 3));
    const later = newId('evt');
    for (const id of ids) expect(id < later).toBe(true);
    // the random part uses every character of the alphabet (no constant bits)
    expect(new Set(ids.flatMap((id) => [...id.slice(14)])).size).toBe(32);
  });
});
