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

describe('BatchWriter linger', () => {
  const recording = (linger: { items: number; ms: number }) => {
    const batches: { items: number[]; at: number }[] = [];
    const writer = new BatchWriter<number>(async (batch) => void batches.push({ items: batch, at: performance.now() }), 100, 1, null, linger);
    return { batches, writer };
  };

  it('waits up to its time for a fuller batch, then writes what it has', async () => {
    const { batches, writer } = recording({ items: 10, ms: 60 });
    const t0 = performance.now();
    await Promise.all([writer.add(1), writer.add(2), writer.add(3)]);
    expect(batches.map((b) => b.items)).toEqual([[1, 2, 3]]);
    expect(batches[0]!.at - t0).toBeGreaterThanOrEqual(50);
  });

  it('writes as soon as enough items came, without waiting out its time', async () => {
    const { batches, writer } = recording({ items: 10, ms: 10_000 });
    const t0 = performance.now();
    const first = [1, 2, 3, 4, 5].map((n) => writer.add(n));
    await new Promise((r) => setTimeout(r, 5));
    await Promise.all([...first, ...[6, 7, 8, 9, 10].map((n) => writer.add(n))]);
    expect(batches.map((b) => b.items)).toEqual([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]);
    expect(performance.now() - t0).toBeLessThan(5_000);
  });

  it('writes as soon as its byte budget is full, however few the items', async () => {
    const batches: number[][] = [];
    const writer = new BatchWriter<number>(async (batch) => void batches.push(batch), 100, 1, { maxBytes: 1_000, weigh: (n) => n }, { items: 50, ms: 10_000 });
    const t0 = performance.now();
    const first = writer.add(400);
    await new Promise((r) => setTimeout(r, 5));
    await Promise.all([first, writer.add(300), writer.add(300)]);
    expect(batches).toEqual([[400, 300, 300]]);
    expect(performance.now() - t0).toBeLessThan(5_000);
  });

  it('writes at once when flushed', async () => {
    const { batches, writer } = recording({ items: 10, ms: 10_000 });
    const t0 = performance.now();
    const written = writer.add(1);
    await writer.flush();
    await written;
    expect(batches.map((b) => b.items)).toEqual([[1]]);
    expect(performance.now() - t0).toBeLessThan(5_000);
  });
});

describe('BatchWriter prepare', () => {
  it('prepares each batch once, retries the prepared form, and does not keep the items', async () => {
    const prepared: number[][] = [];
    const written: string[] = [];
    let failures = 1;
    const writer = new BatchWriter<number[], void, string>(
      async (sum) => {
        if (failures-- > 0) throw new Error('database restarting');
        written.push(sum);
      },
      10,
      3,
      null,
      { items: 2, ms: 10_000 }, // both items in one batch
      (batch) => {
        prepared.push(batch.map((b) => b.length));
        const sum = String(batch.reduce((n, b) => n + b.length, 0));
        for (const b of batch) b.length = 0; // what the write must no longer need
        return sum;
      },
    );
    await Promise.all([writer.add([1, 2]), writer.add([3])]);
    expect(prepared).toEqual([[2, 1]]);
    expect(written).toEqual(['3']);
  });

  it('rejects the callers of a batch whose preparation threw, and goes on with the next', async () => {
    const written: number[][] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const writer = new BatchWriter<number, void, number[]>(
      async (batch) => {
        if (written.length === 0 && batch[0] === 1) await gate; // the next items pile up behind the first write
        written.push(batch);
      },
      10,
      1,
      null,
      null,
      (batch) => {
        if (batch.includes(-1)) throw new Error('not writable');
        return batch;
      },
    );
    const first = writer.add(1);
    const bad = [writer.add(2), writer.add(-1)];
    release();
    await first;
    await expect(bad[0]).rejects.toThrow('not writable');
    await expect(bad[1]).rejects.toThrow('not writable');
    await writer.add(3);
    expect(written).toEqual([[1], [3]]);
  });
});
