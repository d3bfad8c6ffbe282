import { describe, expect, it } from 'vitest';
import { PendingCalls } from '../src/db/pending-calls.js';

describe('PendingCalls', () => {
  it('gives each waiting call its own id, and answers an id once, even after its slot is reused', () => {
    const calls = new PendingCalls<string>();
    const a = calls.add('a');
    const b = calls.add('b');
    expect(a).not.toBe(b);
    expect(calls.size).toBe(2);
    expect(calls.take(a)).toBe('a');
    expect(calls.take(a)).toBeUndefined(); // answered already
    expect(calls.take(99)).toBeUndefined(); // never sent
    const c = calls.add('c'); // a's slot again, under another id
    expect(c).not.toBe(a);
    expect(calls.take(a)).toBeUndefined(); // a second reply to a does not reach c
    expect(calls.take(b)).toBe('b');
    expect(calls.size).toBe(1);
    expect(calls.take(c)).toBe('c');
  });

  it('hands over every call still waiting, and none waits after', () => {
    const calls = new PendingCalls<number>();
    const ids = [1, 2, 3, 4].map((n) => calls.add(n));
    calls.take(ids[1]!);
    expect(calls.takeAll().sort()).toEqual([1, 3, 4]);
    expect(calls.size).toBe(0);
    expect(calls.take(ids[0]!)).toBeUndefined();
  });
});
