import { describe, expect, it } from 'vitest';
import { BatchWriter } from '../src/delivery/batch-writer.js';

describe('BatchWriter byte budget', () => {
  it('splits batches by weight as well as by count, and writes an oversized item alone', async () => {
    const batches: number[][] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const writer = new BatchWriter<number>(
      async (batch) => {
        if (batches.length === 0) await gate; // hold the first write so the rest pile up
        batches.push(batch);
      },
      4,
      1,
      { maxBytes: 100, weigh: (n) => n },
    );
    const done = [writer.add(1), ...[40, 40, 40, 250, 10, 10, 10, 10, 10].map((w) => writer.add(w))];
    release();
    await Promise.all(done);
    expect(batches).toEqual([[1], [40, 40], [40], [250], [10, 10, 10, 10], [10]]);
  });
});
