import { describe, expect, it } from 'vitest';
import { HashedSet } from '../bench/hashed-set.js';

// The receiver counts distinct deliveries with it: a key seen twice must count once, and no two keys may merge.
describe('the receiver counts distinct keys in a hashed set', () => {
  it('counts each key once, across growth from a small table', () => {
    const s = new HashedSet(4);
    const keys = Array.from({ length: 50_000 }, (_, i) => `/ep/${i % 100} dlv_2Bq${String(i).padStart(20, '0')}`);
    for (const k of keys) expect(s.add(k)).toBe(true);
    expect(s.size).toBe(50_000);
    expect(keys.filter((k) => s.add(k))).toEqual([]);
    expect(s.size).toBe(50_000);
  });

  it('tells apart keys that differ in one character, and the empty key', () => {
    const s = new HashedSet();
    for (const k of ['', 'a', 'b', 'ab', 'ba', '/ep/1 x', '/ep/1 y', '/ep/11 ', '/ep/1 1']) expect(s.add(k)).toBe(true);
    expect(s.size).toBe(9);
    expect(s.add('ab')).toBe(false);
  });
});
