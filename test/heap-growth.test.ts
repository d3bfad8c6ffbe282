import { describe, expect, it } from 'vitest';
import { BIG_ANSWERS_BYTES_PER_SECOND, HeapGrowth } from '../src/delivery/heap-growth.js';

/** A HeapGrowth on a clock and an answer counter the test moves by hand. */
function rig() {
  const s = { now: 0, kept: 0, applied: [] as number[] };
  const growth = new HeapGrowth({ lean: 25, roomy: 100, keptBytes: () => s.kept, apply: (p) => s.applied.push(p), now: () => s.now });
  /** `ms` of time passing in checks every 250 ms, keeping `bytesPerSecond` of answers meanwhile. */
  const run = (ms: number, bytesPerSecond: number) => {
    for (let t = 0; t < ms; t += 250) {
      s.now += 250;
      s.kept += bytesPerSecond / 4;
      growth.check();
    }
  };
  return { s, growth, run };
}

describe('heap growth that follows the answers', () => {
  it('starts lean, goes roomy after 10 s of small answers, and lean again at the first quarter second of big ones', () => {
    const { s, growth, run } = rig();
    expect(s.applied).toEqual([25]);
    run(9_750, 100 * 1024); // small answers: 100 KiB/s
    expect(growth.current).toBe(25);
    run(500, 100 * 1024);
    expect(growth.current).toBe(100);
    expect(s.applied).toEqual([25, 100]);

    run(250, BIG_ANSWERS_BYTES_PER_SECOND * 2);
    expect(growth.current).toBe(25);
    expect(s.applied).toEqual([25, 100, 25]);

    // big answers now and then keep it lean; it is roomy only 10 s after the last of them
    run(5_000, 0);
    run(250, BIG_ANSWERS_BYTES_PER_SECOND);
    run(9_500, 0);
    expect(growth.current).toBe(25);
    run(500, 0);
    expect(growth.current).toBe(100);
    expect(s.applied).toEqual([25, 100, 25, 100]);
  });

  it('says whether answers were kept since the last check (the process checks less often while none are)', () => {
    const { s, growth } = rig();
    s.now += 1_000;
    expect(growth.check()).toBe(false);
    s.kept += 10;
    s.now += 250;
    expect(growth.check()).toBe(true);
    s.now += 250;
    expect(growth.check()).toBe(false);
  });

  it('sets V8 only when the percent changes', () => {
    const { s, run } = rig();
    run(60_000, 0);
    expect(s.applied).toEqual([25, 100]);
  });
});
