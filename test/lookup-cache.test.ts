import { describe, expect, it } from 'vitest';
import { LookupCache } from '../src/store/lookup-cache.js';

/** A load that counts its calls and answers when told to. */
function gatedLoad<V>(value: V) {
  const calls = { n: 0 };
  let open: () => void = () => undefined;
  const gate = new Promise<void>((r) => (open = r));
  const load = async () => {
    calls.n++;
    await gate;
    return value;
  };
  return { calls, load, open: () => open() };
}

/** A cache on a clock the test moves, and a load that counts its calls (it returns the count). */
function onClock(ttlMs: number, refreshAhead = true) {
  const clock = { now: 0 };
  const cache = new LookupCache<number>(ttlMs, 10, () => clock.now, refreshAhead);
  let n = 0;
  const load = async () => ++n;
  return { clock, cache, load, loads: () => n };
}

describe('LookupCache', () => {
  it('gives callers that miss together one load', async () => {
    const cache = new LookupCache<string>(1_000);
    const g = gatedLoad('v1');
    const waiting = Array.from({ length: 50 }, () => cache.get('k', g.load));
    g.open();
    expect(await Promise.all(waiting)).toEqual(Array(50).fill('v1'));
    expect(g.calls.n).toBe(1);
    // and the value is kept: no load for the next caller
    expect(await cache.get('k', async () => 'other')).toBe('v1');
  });

  it('refreshes a key in use before it expires, answering with the value it has meanwhile', async () => {
    const { clock, cache, load, loads } = onClock(200);
    expect(await cache.get('k', load)).toBe(1);
    clock.now = 170; // in the last quarter of its life
    expect(await cache.get('k', load)).toBe(1); // answered at once, a refresh started
    await Promise.resolve();
    expect(loads()).toBe(2);
    expect(await cache.get('k', load)).toBe(2);
    clock.now = 270; // the refreshed entry is fresh: no refresh yet
    expect(await cache.get('k', load)).toBe(2);
    expect(loads()).toBe(2);
  });

  it('without refresh ahead, loads once per period: on the first miss after it expires', async () => {
    const { clock, cache, load, loads } = onClock(200, false);
    expect(await cache.get('k', load)).toBe(1);
    clock.now = 199; // in the last quarter: no refresh
    expect(await cache.get('k', load)).toBe(1);
    await Promise.resolve();
    expect(loads()).toBe(1);
    clock.now = 200;
    const [a, b] = await Promise.all([cache.get('k', load), cache.get('k', load)]);
    expect([a, b]).toEqual([2, 2]);
    expect(loads()).toBe(2);
  });

  it('loads an expired key again before answering', async () => {
    const { clock, cache, load } = onClock(50);
    expect(await cache.get('k', load)).toBe(1);
    clock.now = 50;
    expect(await cache.get('k', load)).toBe(2);
  });

  it('does not keep a failed load: its callers get the error, the next caller loads again', async () => {
    const cache = new LookupCache<string>(1_000);
    let fail = true;
    const load = async () => {
      if (fail) throw new Error('database down');
      return 'ok';
    };
    const both = [cache.get('k', load), cache.get('k', load)];
    for (const p of both) await expect(p).rejects.toThrow('database down');
    fail = false;
    expect(await cache.get('k', load)).toBe('ok');
  });

  it('does not keep what a load forgotten meanwhile returns', async () => {
    const cache = new LookupCache<string>(1_000);
    const old = gatedLoad('before the change');
    const first = cache.get('k', old.load);
    cache.forget('k'); // the row changed while the load was under way
    const fresh = cache.get('k', async () => 'after the change');
    old.open();
    expect(await first).toBe('before the change');
    expect(await fresh).toBe('after the change');
    expect(await cache.get('k', async () => 'unused')).toBe('after the change');
  });

  it('starts over past its size bound', async () => {
    const cache = new LookupCache<number>(1_000, 3);
    for (let i = 0; i < 3; i++) await cache.get(`k${i}`, async () => i);
    await cache.get('k3', async () => 3); // the bound: the first three are dropped
    expect(await cache.get('k0', async () => 100)).toBe(100);
    expect(await cache.get('k3', async () => 200)).toBe(3);
  });
});
